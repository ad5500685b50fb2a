#!/bin/sh
# The in-guest half of bench/apps_nested.sh: Debian's redis-server and
# nginx, the same binaries three ways (bench/lib/guest.sh: kiln on
# kiln-vmm, kiln on QEMU microvm, the program in a network namespace
# behind a veth pair), measured from here.
# Phase 1: redis-benchmark, 50 clients, SET and GET each on its own run,
# without and with -P 16 (tests set, get, set-p16, get-p16).  Phase 2:
# wrk on nginx's 612-byte page (test page).  Each round runs each test
# on the three configurations back to back, the order rotated per round;
# round 0 is a short warm-up.  Around each run the VM's KVM counters and
# the CPU time of the server and of the whole CPU are read (K lines).
# Output lines: F (facts), P (progress), R CONF TEST ROUND REQUESTS and
# redis-benchmark's CSV as "r ..." lines, W CONF TEST ROUND followed by
# wrk's output as "w ..." lines, K CONF TEST ROUND BEFORE / AFTER, and
# the monitors' own output at the end ("o CONF PHASE: ...").
# Reads config.sh next to it: CONFS, RUNS, REDIS_N and REDIS_NP
# (requests per redis-benchmark run without and with -P 16), CLIENTS,
# DUR (seconds per wrk run), MEM, QEMU_ACCEL, VMM_FLAGS, IP,
# MOUNT_DEBUGFS.  A server that does not come up, or stops answering
# redis-benchmark for 300 s, is reported (F down, F hung) and left out.
K=$(cd "$(dirname "$0")" && pwd)
T=$K/run # the servers' output
rm -rf "$T"
mkdir -p "$T"
# shellcheck source=/dev/null # written by bench/apps_nested.sh
. "$K/config.sh"
# shellcheck source=bench/lib/guest.sh # staged next to this script as lib.sh
UP_DROP=1
. "$K/lib.sh"
echo "F wrk $(wrk -v 2>&1 | head -n 1)"
echo "F redis_benchmark $(redis-benchmark --version 2>&1 | head -n 1)"
echo "F redis_server $(/usr/bin/redis-server --version 2>&1 | head -n 1)"
echo "F nginx $(/usr/sbin/nginx -v 2>&1 | head -n 1)"
# What the process nginx opens at its Debian paths (the kiln instances
# have them in their rootfs).
mkdir -p /run /var/log/nginx /var/lib/nginx
ALL_CONFS=$CONFS

# Phase 1: redis ------------------------------------------------------------------

start_redis() {
	start "$1" redis redis.cpio /usr/bin/redis-server --port 6379 --save '' \
		--appendonly no --protected-mode no
}
up redis 6379
round=0
while [ $round -le "$RUNS" ]; do
	for t in set get set-p16 get-p16; do
		for c in $(rotate $round); do
			n=$REDIS_N pipe=""
			case $t in *-p16) n=$REDIS_NP pipe="-P 16" ;; esac
			[ $round = 0 ] && n=$((n / 4))
			before=$(counters "$c")
			echo "R $c $t $round $n"
			# shellcheck disable=SC2086 # $pipe is empty or two words
			timeout 300 redis-benchmark -h "$(addr_of "$c")" -p 6379 \
				-c "$CLIENTS" -n "$n" -t "${t%-p16}" $pipe --csv \
				>"$T/rb.out" 2>&1
			st=$?
			tr '\r' '\n' <"$T/rb.out" | sed '/^$/d; s/^/r /'
			echo "K $c $t $round $before / $(counters "$c")"
			# A server that stopped answering is left out from
			# here on, with what it printed.
			if [ $st = 124 ] || [ $st -ge 128 ]; then
				echo "F hung redis $c $t $round"
				drop "$c" redis
			fi
		done
	done
	echo "P redis round $round of $RUNS done at $(uptime_s) s"
	round=$((round + 1))
done
stop_all redis
PID_vmm="" PID_qemu="" PID_process=""
CONFS=$ALL_CONFS

# Phase 2: nginx ------------------------------------------------------------------

start_nginx() {
	start "$1" nginx nginx.cpio /usr/sbin/nginx -c /etc/nginx/nginx.conf \
		-g 'daemon off; master_process off;'
}
up nginx 8080
round=0
while [ $round -le "$RUNS" ]; do
	for c in $(rotate $round); do
		d=$DUR
		[ $round = 0 ] && d=2
		before=$(counters "$c")
		echo "W $c page $round"
		wrk -t1 -c"$CLIENTS" -d"${d}s" --timeout 30s --latency \
			"http://$(addr_of "$c"):8080/index.html" 2>&1 | sed 's/^/w /'
		echo "K $c page $round $before / $(counters "$c")"
	done
	echo "P nginx round $round of $RUNS done at $(uptime_s) s"
	round=$((round + 1))
done
stop_all nginx
PID_vmm="" PID_qemu="" PID_process=""
echo "F end_uptime $(uptime_s)"
