#!/bin/sh
# Network benchmark on this machine directly (the companion of
# bench/net_nested.sh): bench/net/guest.sh runs here, inside a network
# namespace of its own (unshare -n), with wrk and blast measuring
# examples/httpd served by kiln on QEMU microvm and by a host process
# behind a veth pair, plus kiln on kiln-vmm when /dev/kvm is usable.  On a
# machine without /dev/kvm QEMU runs under TCG: that row is software
# emulation, not a monitor's cost.  The results go into docs/bench-net.md
# (bench/net/report.py, with the nested run's log if there is one).
#
# Usage: bench/net.sh [--runs N] [--duration S] [--connections N]
#                     [--bulk MIB] [--report-only]
# (the same options as bench/net_nested.sh).  Needs root (taps, veth),
# a build (make), wrk and QEMU.  Raw log: build/bench-net/host.log.
set -eu
cd "$(dirname "$0")/.."
W=$(pwd)/build/bench-net
LOG=$W/host.log

runs=10
duration=3
conns=4
bulk_mib=16
report_only=0

net_die() {
	echo "bench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--bulk) bulk_mib=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) net_die "unknown option '$1' (usage: bench/net.sh [--runs N] [--duration S] [--connections N] [--bulk MIB] [--report-only])" ;;
	esac
done

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
report() {
	set -- --md docs/bench-net.md --png docs/bench-net.png --host-log "$LOG"
	[ -f "$W/nested.log" ] && set -- "$@" --log "$W/nested.log"
	"$PY" bench/net/report.py "$@"
}
if [ $report_only = 1 ]; then
	[ -f "$LOG" ] || net_die "no raw log at '$LOG' (run bench/net.sh without --report-only first)"
	report
	exit
fi

for f in build/kiln build/kiln-vmm.static build/kiln.elf examples/httpd; do
	[ -e "$f" ] || net_die "'$f' missing: run make first"
done
for c in musl-gcc wrk qemu-system-x86_64 ip unshare nsenter; do
	command -v "$c" >/dev/null || net_die "$c not found (run scripts/deps.sh)"
done
[ "$(id -u)" = 0 ] || net_die "needs root (it makes taps and a veth pair in a namespace of its own)"

if [ -w /dev/kvm ]; then
	confs="kiln-vmm qemu process" accel=kvm
else
	confs="qemu process" accel=tcg
fi
K=$W/host/k
rm -rf "$W/host"
mkdir -p "$K"
CONFS=$confs RUNS=$runs DUR=$duration CONNS=$conns BULK_MIB=$bulk_mib \
	MEM=128 QEMU_ACCEL=$accel IP=$(command -v ip) VMM_FLAGS=--stats \
	MOUNT_DEBUGFS=0 sh bench/net/stage.sh "$K"

echo "bench: network benchmark on this machine ($confs; QEMU with $accel), $runs rounds"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
st=0
unshare -n sh "$K/guest.sh" >"$LOG.new" 2>&1 || st=$?
grep -E '^(P|F failed) ' "$LOG.new" | sed 's/^/bench:   /'
{
	echo "H where host"
	echo "H status $st"
	echo "H wall_s $(($(date +%s) - t0))"
	echo "H loadavg_before $load_before"
	echo "H loadavg_after $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "H guest_mib 128"
	echo "H runs $runs"
	echo "H duration $duration"
	echo "H connections $conns"
	echo "H duration_1m $((duration * 2))"
	echo "H connections_1m 1"
	echo "H bulk_mib $bulk_mib"
} >>"$LOG.new"
grep -q '^K ' "$LOG.new" ||
	net_die "no measurements (status $st; raw output in '$LOG.new')"
mv "$LOG.new" "$LOG"
report
