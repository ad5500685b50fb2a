#!/bin/sh
# The in-guest half of bench/boot_nested.sh: runs inside the Linux guest of
# scripts/nested-kvm.sh (busybox, a working /dev/kvm) and times, with
# timeit, each program as a plain process, on kiln-vmm and on QEMU microvm
# with -accel kvm: same kernel, same rootfs, same memory, in this one boot.
# Runs are interleaved (every configuration once per round, the order
# rotated each round) so that a slow patch of the host hits them all alike.
# Round 0 is the warm-up; it also decides whether QEMU works here.
# Output: timeit's T/M/O/E lines, F (facts) and P (progress) lines.
# Reads config.sh from its own directory: RUNS, MEM, BUDGET, PROGS and, for
# each program P, P_CMD (the plain-process command line, shell words).
K=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null # written by bench/boot_nested.sh
. "$K/config.sh"
export PATH=/usr/bin:/bin:/usr/sbin:/sbin

uptime_s() { cut -d' ' -f1 /proc/uptime; }

echo "F guest_kernel $(uname -r)"
echo "F guest_cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "F guest_vcpus $(grep -c '^processor' /proc/cpuinfo)"
echo "F guest_svm_flags $(grep -o -w -E 'svm|npt' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "F guest_clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
echo "F guest_mem_mib $(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
echo "F guest_qemu $(qemu-system-x86_64 --version 2>&1 | head -n 1)"
echo "F start_uptime $(uptime_s)"

# run_conf CONF PROG ROUND: one timed run of PROG under CONF.
run_conf() {
	case $1 in
	process)
		words=""
		eval "words=\$${2}_CMD"
		eval "set -- \"\$1\" \"\$2\" \"\$3\" $words"
		;;
	kiln-vmm | kiln-vmm.static)
		set -- "$1" "$2" "$3" "$K/$1" --kernel "$K/kiln.elf" \
			--initrd "$K/$2.cpio" --memory "$MEM" \
			--cmdline console=ttyS0 --trace-boot
		;;
	qemu)
		set -- "$1" "$2" "$3" /usr/bin/qemu-system-x86_64 \
			-M microvm,acpi=off,x-option-roms=off,rtc=on -accel kvm \
			-m "$MEM" -nodefaults -no-user-config -display none \
			-no-reboot -kernel "$K/kiln.elf" -initrd "$K/$2.cpio" \
			-append console=ttyS0 -serial stdio \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04
		;;
	esac
	conf=$1 prog=$2 round=$3
	shift 3
	"$K/timeit" -l "$prog/$conf" -i "$round" -- "$@"
}

CONFS="process kiln-vmm kiln-vmm.static qemu"
n_confs=4
start=$(uptime_s)
round=0
while [ "$round" -le "$RUNS" ]; do
	rot=$((round % n_confs))
	k=0 order="" tail=""
	for c in $CONFS; do
		if [ $k -lt $rot ]; then tail="$tail $c"; else order="$order $c"; fi
		k=$((k + 1))
	done
	for prog in $PROGS; do
		for c in $order $tail; do
			run_conf "$c" "$prog" "$round" >"$K/last.out"
			cat "$K/last.out"
			# QEMU status 0 comes out as (0 << 1) | 1 = 1.
			if [ "$round" = 0 ] && [ "$c" = qemu ] &&
				! grep -q "^T $prog/qemu 0 1 [0-9]" "$K/last.out"; then
				echo "F qemu_failed $prog: $(grep '^[OE] ' "$K/last.out" | head -n 3 | cut -d' ' -f4- | tr '\n' ' ')"
				CONFS=$(echo "$CONFS" | sed 's/ qemu//')
				n_confs=3
				order=$(echo "$order" | sed 's/ qemu//')
				tail=$(echo "$tail" | sed 's/ qemu//')
			fi
		done
	done
	now=$(uptime_s)
	echo "P round $round of $RUNS done at $now s"
	if [ "$round" -lt "$RUNS" ] &&
		awk "BEGIN { exit !($now - $start > $BUDGET) }"; then
		echo "F stopped_early after round $round: ${BUDGET}s budget spent"
		break
	fi
	round=$((round + 1))
done
echo "F end_uptime $(uptime_s)"
