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
	--timeout) timeout_s=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) net_die "unknown option '$1' (usage: bench/net_nested.sh [--runs N] [--duration S] [--connections N] [--bulk MIB] [--timeout S] [--report-only])" ;;
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
	[ -f "$LOG" ] || net_die "no raw log at '$LOG' (run bench/net_nested.sh without --report-only first)"
	report
	exit
fi

for f in build/kiln build/kiln-vmm.static build/kiln.elf examples/httpd; do
	[ -e "$f" ] || net_die "'$f' missing: run make first"
done
command -v musl-gcc >/dev/null || net_die "musl-gcc not found (run scripts/deps.sh)"
QEMU=$(command -v qemu-system-x86_64) || net_die "qemu-system-x86_64 not found (run scripts/deps.sh)"
WRK=$(command -v wrk) || net_die "wrk not found (run scripts/deps.sh)"
IPR=$(command -v ip) || net_die "ip (iproute2) not found"
deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
	scripts/nested-kvm.sh --timeout 300 -- true >/dev/null
	deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' | head -n1)
fi

rm -rf "$W/stage" "$W/mods"
K=$W/stage/k
mkdir -p "$K/mod" "$W/mods"
# tun for the taps, veth for the process's link.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$W/mods" --wildcards \
	'./lib/modules/*/kernel/drivers/net/tun.ko*' \
	'./lib/modules/*/kernel/drivers/net/veth.ko*'
for m in tun veth; do
	ko=$(find "$W/mods" -name "$m.ko*" | head -n1)
	case $ko in
	*.xz) xz -dc "$ko" >"$K/mod/$m.ko" ;;
	*.zst) zstd -qdc "$ko" >"$K/mod/$m.ko" ;;
	*) cp "$ko" "$K/mod/$m.ko" ;;
	esac
done
echo "tun veth" >"$K/mod/order"

cp "$IPR" "$K/ip"
CONFS="kiln-vmm qemu process" RUNS=$runs DUR=$duration CONNS=$conns \
	BULK_MIB=$bulk_mib MEM=$guest_mib QEMU_ACCEL=kvm IP=/k/ip \
	VMM_FLAGS=--stats MOUNT_DEBUGFS=1 sh bench/net/stage.sh "$K"

# The guest is busybox: QEMU, wrk, ip and httpd come with every library
# they load (at their host paths), and QEMU with the firmware it opens for
# microvm (what strace sees on this host, plus the two microvm always
# needs), as bench/boot_nested.sh does.
set -- --add "$K:/k" --add "$QEMU:/usr/bin/qemu-system-x86_64" --add "$WRK:/usr/bin/wrk"
libs=$(for b in "$QEMU" "$WRK" "$IPR" examples/httpd; do ldd "$b"; done |
	grep -o '/[^ ]*' | sort -u)
for l in $libs; do
	set -- "$@" --add "$l:$l"
done
data="/usr/share/qemu/qboot.rom /usr/share/qemu/bios-microvm.bin"
if command -v strace >/dev/null; then
	# A guest that exits at once (blast without arguments prints its
	# usage), so QEMU opens everything it needs for this machine and ends.
	build/kiln pack -o "$W/probe.cpio" "$K/blast"
	strace -f -qq -e trace=open,openat,access -o "$W/qemu.strace" \
		timeout 60 "$QEMU" -M microvm,acpi=off,x-option-roms=off,rtc=on \
		-accel tcg -m "$guest_mib" -nodefaults -no-user-config \
		-display none -no-reboot -kernel build/kiln.elf \
		-initrd "$W/probe.cpio" -append console=ttyS0 -serial null \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-global virtio-mmio.force-legacy=false \
		-netdev user,id=n0 -device virtio-net-device,netdev=n0 \
		</dev/null >/dev/null 2>&1 || true
	data="$data $(grep -v ENOENT "$W/qemu.strace" | grep -o '"/usr/[^"]*share/[^"]*"' |
		tr -d '"' | xargs -r realpath -s | sort -u | tr '\n' ' ')"
fi
for d in $(echo "$data" | tr ' ' '\n' | sort -u); do
	[ -f "$d" ] && set -- "$@" --add "$d:$d"
done

echo "bench: nested network benchmark, $runs rounds of ${duration}s wrk runs (the Linux guest runs under TCG: this takes a while)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
rm -f "$W/status"
{
	st=0
	bash scripts/nested-kvm.sh --mem "$nested_mib" --smp 1 --timeout "$timeout_s" \
		"$@" -- sh /k/guest.sh 2>&1 || st=$?
	echo "$st" >"$W/status"
} | tee "$LOG.new" | grep --line-buffered -E '^(P|F failed) ' | sed -u 's/^/bench:   /'
status=$(cat "$W/status" 2>/dev/null || echo 125)
{
	echo "H where nested"
	echo "H nested_status $status"
	echo "H nested_wall_s $(($(date +%s) - t0))"
	echo "H loadavg_before $load_before"
	echo "H loadavg_after $(cut -d' ' -f1-3 /proc/loadavg)"
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
	net_die "the nested guest produced no measurements (status $status; raw output in '$LOG.new')"
fi
mv "$LOG.new" "$LOG"
report
