#!/bin/sh
# Network benchmark, nested KVM: the same examples/httpd (and
# bench/net/blast for bulk TCP) served by a kiln instance on kiln-vmm, by
# one on QEMU microvm -accel kvm, and by a plain process behind a veth
# pair, all side by side inside ONE boot of scripts/nested-kvm.sh's Linux
# guest (QEMU TCG emulating AMD SVM, the only /dev/kvm this machine has),
# measured from that guest with wrk (a 612-byte page, a 1 MiB file:
# requests/s, p50/p99 latency) and blast (bulk TCP, server to client).
# bench/net/guest.sh is the in-guest half; bench/net/report.py writes
# docs/bench-net.md and docs/bench-net.png from the raw log.
#
# The absolute numbers are KVM inside software emulation: only the ratios
# between configurations mean anything.
#
# Usage: bench/net_nested.sh [--runs N] [--duration S] [--connections N]
#                            [--bulk MIB] [--timeout S] [--report-only]
#   --runs N         measured rounds after the warm-up round (default 10)
#   --duration S     seconds per wrk run on the page (default 3)
#   --connections N  wrk's concurrent keep-alive connections on the page
#                    (default 4; the 1 MiB file gets 1, and twice the time)
#   --bulk MIB       MiB per bulk transfer (default 16)
#   --timeout S      kill the nested guest after this long (default 3600)
#   --report-only    regenerate the docs from the last run's raw log
# Needs a build (make) and the nested harness's first-run download (see
# docs/nested-kvm.md).  Raw log: build/bench-net/nested.log.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=$ROOT/build/bench-net
LOG=$W/nested.log

runs=10
duration=3
conns=4
bulk_mib=16
timeout_s=3600
report_only=0
guest_mib=128    # each kiln instance's RAM, on both monitors
nested_mib=2048  # the Linux guest's: QEMU, its libraries, two guests

bench_die() {
	echo "bench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--bulk) bulk_mib=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) bench_die "unknown option '$1' (usage: bench/net_nested.sh [--runs N] [--duration S] [--connections N] [--bulk MIB] [--timeout S] [--report-only])" ;;
	esac
done

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# The page also shows bench/net.sh's run on this machine, if there is one.
report() {
	set -- --log "$LOG" --md docs/bench-net.md --png docs/bench-net.png
	[ -f "$W/host.log" ] && set -- "$@" --host-log "$W/host.log"
	"$PY" bench/net/report.py "$@"
}
if [ $report_only = 1 ]; then
	[ -f "$LOG" ] || bench_die "no raw log at '$LOG' (run bench/net_nested.sh without --report-only first)"
	report
	exit
fi

for f in build/kiln build/kiln-vmm.static build/kiln.elf examples/httpd; do
	[ -e "$f" ] || bench_die "'$f' missing: run make first"
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

cp "$IPR" "$K/ip"
CONFS="kiln-vmm qemu process" RUNS=$runs DUR=$duration CONNS=$conns \
	BULK_MIB=$bulk_mib MEM=$guest_mib QEMU_ACCEL=kvm IP=/k/ip \
	VMM_FLAGS=--stats MOUNT_DEBUGFS=1 sh bench/net/stage.sh "$K"

# The guest is busybox: QEMU, wrk, ip and httpd come with every library
# they load (at their host paths), QEMU with its firmware.
set -- --add "$K:/k" --add "$QEMU:/usr/bin/qemu-system-x86_64" --add "$WRK:/usr/bin/wrk"
# blast without arguments prints its usage and exits: the probe guest.
build/kiln pack -o "$W/probe.cpio" "$K/blast"
for f in $(nested_libs "$QEMU" "$WRK" "$IPR" examples/httpd) \
	$(nested_qemu_data "$W" "$W/probe.cpio"); do
	set -- "$@" --add "$f:$f"
done

echo "bench: nested network benchmark, $runs rounds of ${duration}s wrk runs (the Linux guest runs under TCG: this takes a while)"
nested_run "$LOG" "$W" "$timeout_s" "$nested_mib" "$@" -- sh /k/guest.sh
status=$nested_status
{
	nested_facts
	echo "H nested_mib $nested_mib"
	echo "H guest_mib $guest_mib"
	echo "H runs $runs"
	echo "H duration $duration"
	echo "H connections $conns"
	echo "H duration_1m $((duration * 2))"
	echo "H connections_1m 1"
	echo "H bulk_mib $bulk_mib"
	for f in build/kiln.elf build/kiln-vmm.static examples/httpd; do
		echo "H build $f $(wc -c <"$f") bytes, built $(date -u -r "$f" '+%Y-%m-%d %H:%M UTC')"
	done
} >>"$LOG.new"
if ! grep -q '^K ' "$LOG.new"; then
	tail -n 30 "$LOG.new" >&2
	bench_die "the nested guest produced no measurements (status $status; raw output in '$LOG.new')"
fi
mv "$LOG.new" "$LOG"
report
