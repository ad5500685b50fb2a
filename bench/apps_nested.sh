#!/bin/sh
# Application benchmark, nested KVM (issue 5): Debian's own redis-server
# and nginx (nginx-light), unmodified, run three ways side by side inside
# ONE boot of scripts/nested-kvm.sh's Linux guest (QEMU TCG emulating AMD
# SVM, the only /dev/kvm this machine has): as a kiln instance on
# kiln-vmm, as one on QEMU microvm -accel kvm, and as a plain process
# behind a veth pair.  Measured from that guest with Debian's
# redis-benchmark (SET and GET, 50 clients, without and with -P 16) and
# wrk (nginx's 612-byte page, 50 connections).  bench/apps/guest.sh is the
# in-guest half (it shares bench/lib/guest.sh with the network benchmark);
# bench/apps/report.py writes docs/bench-apps.md and docs/bench-apps.png
# from the raw log.
#
# The absolute numbers are KVM inside software emulation: only the ratios
# between configurations mean anything.
#
# Usage: bench/apps_nested.sh [--runs N] [--requests N] [--requests-pipelined N]
#                             [--duration S] [--timeout S] [--report-only]
#   --runs N                 measured rounds after the warm-up (default 7)
#   --requests N             requests per redis-benchmark run (default 1000)
#   --requests-pipelined N   the same with -P 16 (default 16000)
#   --duration S             seconds per wrk run (default 5)
#   --timeout S              kill the nested guest after this long
#                            (default 3600)
#   --report-only            regenerate the docs from the last raw log
# Needs a build (make) and the nested harness's first-run download (see
# docs/nested-kvm.md).  Raw log: build/bench-apps/nested.log.
set -eu
cd "$(dirname "$0")/.."
W=$(pwd)/build/bench-apps
LOG=$W/nested.log

runs=7
requests=1000
requests_p=16000
duration=5
clients=50
timeout_s=3600
report_only=0
guest_mib=256    # each kiln instance's RAM (redis wants more than 128)
nested_mib=2048  # the Linux guest's: QEMU, its libraries, two guests

bench_die() {
	echo "bench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--requests) requests=$2; shift 2 ;;
	--requests-pipelined) requests_p=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) bench_die "unknown option '$1' (usage: bench/apps_nested.sh [--runs N] [--requests N] [--requests-pipelined N] [--duration S] [--timeout S] [--report-only])" ;;
	esac
done

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
report() {
	"$PY" bench/apps/report.py --log "$LOG" --md docs/bench-apps.md \
		--png docs/bench-apps.png
}
if [ $report_only = 1 ]; then
	[ -f "$LOG" ] || bench_die "no raw log at '$LOG' (run bench/apps_nested.sh without --report-only first)"
	report
	exit
fi

REDIS=/usr/bin/redis-server NGINX=/usr/sbin/nginx
for f in build/kiln build/kiln-vmm.static build/kiln.elf; do
	[ -e "$f" ] || bench_die "'$f' missing: run make first"
done
for f in $REDIS $NGINX /usr/bin/redis-benchmark /etc/nginx/mime.types; do
	[ -e "$f" ] || bench_die "'$f' missing (scripts/deps.sh installs redis-server, redis-tools and nginx-light)"
done
command -v musl-gcc >/dev/null || bench_die "musl-gcc not found (run scripts/deps.sh)"
QEMU=$(command -v qemu-system-x86_64) || bench_die "qemu-system-x86_64 not found (run scripts/deps.sh)"
WRK=$(command -v wrk) || bench_die "wrk not found (run scripts/deps.sh)"
IPR=$(command -v ip) || bench_die "ip (iproute2) not found"
# shellcheck source=bench/lib/nested.sh
. bench/lib/nested.sh
rm -rf "$W/stage"
K=$W/stage/k
nested_modules "$K" "$W"

# The staged directory, /k in the guest: the monitor, kernel, the two
# rootfs, blast (it waits for the servers' ports), the scripts.
mkdir -p "$K/srv"
sh bench/net/files.sh "$K/srv"
rm "$K/srv/1m.bin"
musl-gcc -static -std=c11 -O2 -Wall -Wextra -Werror -o "$K/blast" bench/net/blast.c
cp build/kiln-vmm.static "$K/kiln-vmm"
cp build/kiln.elf "$K/"
cp "$IPR" "$K/ip"
cp bench/apps/guest.sh "$K/guest.sh"
cp bench/lib/guest.sh "$K/lib.sh"
# The same arguments as the process gets (bench/apps/guest.sh).
build/kiln pack -o "$K/redis.cpio" "$REDIS" --port 6379 --save '' \
	--appendonly no --protected-mode no
# As tests/e2e/app_nginx.sh runs it, with the benchmark's configuration
# and page; nginx looks up "nobody" in /etc/passwd when run as root.
A=tests/apps/nginx
mkdir -p "$W/empty"
build/kiln pack -o "$K/nginx.cpio" \
	--file bench/apps/nginx.conf:/etc/nginx/nginx.conf \
	--file /etc/nginx/mime.types:/etc/nginx/mime.types \
	--file "$A/passwd:/etc/passwd" --file "$A/group:/etc/group" \
	--file "$K/srv/index.html:/srv/index.html" \
	--dir "$W/empty:/var/log/nginx" --dir "$W/empty:/var/lib/nginx" \
	"$NGINX" -g 'daemon off; master_process off;'
cat >"$K/config.sh" <<CONF
CONFS='kiln-vmm qemu process'
RUNS=$runs
REDIS_N=$requests
REDIS_NP=$requests_p
CLIENTS=$clients
DUR=$duration
MEM=$guest_mib
QEMU_ACCEL=kvm
IP=/k/ip
VMM_FLAGS=--stats
MOUNT_DEBUGFS=1
CONF

# The guest is busybox: QEMU, the clients and the servers come with every
# library they load (at their host paths), QEMU with its firmware, and
# the process nginx with the files the kiln instance has in its rootfs.
set -- --add "$K:/k" --add "$QEMU:/usr/bin/qemu-system-x86_64" --add "$WRK:/usr/bin/wrk"
for b in $REDIS $NGINX /usr/bin/redis-benchmark; do
	set -- "$@" --add "$b:$b"
done
set -- "$@" --add bench/apps/nginx.conf:/etc/nginx/nginx.conf \
	--add /etc/nginx/mime.types:/etc/nginx/mime.types \
	--add "$A/passwd:/etc/passwd" --add "$A/group:/etc/group" \
	--add "$K/srv/index.html:/srv/index.html"
build/kiln pack -o "$W/probe.cpio" "$K/blast"
for f in $(nested_libs "$QEMU" "$WRK" "$IPR" $REDIS $NGINX /usr/bin/redis-benchmark) \
	$(nested_qemu_data "$W" "$W/probe.cpio"); do
	set -- "$@" --add "$f:$f"
done

echo "bench: nested application benchmark, $runs rounds (the Linux guest runs under TCG: this takes a while)"
nested_run "$LOG" "$W" "$timeout_s" "$nested_mib" "$@" -- sh /k/guest.sh
{
	nested_facts
	echo "H nested_mib $nested_mib"
	echo "H guest_mib $guest_mib"
	echo "H runs $runs"
	echo "H requests $requests"
	echo "H requests_pipelined $requests_p"
	echo "H clients $clients"
	echo "H duration $duration"
	for f in build/kiln.elf build/kiln-vmm.static; do
		echo "H build $f $(wc -c <"$f") bytes, built $(date -u -r "$f" '+%Y-%m-%d %H:%M UTC')"
	done
} >>"$LOG.new"
if ! grep -q '^K ' "$LOG.new"; then
	tail -n 30 "$LOG.new" >&2
	bench_die "the nested guest produced no measurements (status $nested_status; raw output in '$LOG.new')"
fi
mv "$LOG.new" "$LOG"
report
