#!/bin/sh
# Sourced by the in-guest halves of the nested benchmarks
# (bench/net/guest.sh, bench/apps/guest.sh) after they set K (the staged
# directory) and T (the servers' output) and read K/config.sh: CONFS,
# MEM, QEMU_ACCEL, VMM_FLAGS, IP (an iproute2 ip: busybox's cannot make
# veth), MOUNT_DEBUGFS.  It prints the F facts common to both, loads the
# staged modules, makes the three links and defines the helpers that
# start, probe and stop one server per configuration:
#   kiln-vmm  kiln's kernel on kiln-vmm --net tap0      10.0.2.15
#   qemu      the same kernel and rootfs on QEMU microvm
#             (-netdev tap, virtio-net-device) on tap1   10.0.3.15
#   process   the program itself in a network namespace
#             behind a veth pair                          10.0.4.15
# K/blast (bench/net/blast.c) waits for a server's port.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH

uptime_s() { cut -d' ' -f1 /proc/uptime; }
die() {
	echo "F failed $*"
	exit 1
}

# Whatever happens, the servers and the namespace holder go (bench/net.sh
# runs this on the host, in a namespace that lives as long as they do).
PID_vmm="" PID_qemu="" PID_process="" NSPID=""
cleanup() {
	for p in $PID_vmm $PID_qemu $PID_process $NSPID; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

echo "F guest_kernel $(uname -r)"
echo "F guest_cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "F guest_vcpus $(grep -c '^processor' /proc/cpuinfo)"
echo "F guest_mem_mib $(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
echo "F qemu $(qemu-system-x86_64 --version 2>&1 | head -n 1)"
echo "F qemu_accel $QEMU_ACCEL"
echo "F start_uptime $(uptime_s)"

if [ -f "$K/mod/order" ]; then
	for m in $(cat "$K/mod/order"); do
		insmod "$K/mod/$m.ko" || die "insmod $m"
	done
fi
# The nested guest mounts debugfs for KVM's counters; elsewhere only an
# already mounted one is read.
[ "${MOUNT_DEBUGFS:-0}" = 1 ] && ! grep -q ' /sys/kernel/debug ' /proc/mounts &&
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] && echo "F kvm_debugfs yes"

# The links.  Taps and the veth pair live in this namespace (the nested
# guest's, or the one bench/net.sh made); the process gets its own.
for t in 0 1; do
	$IP tuntap add dev tap$t mode tap &&
		$IP addr add 10.0.$((t + 2)).1/24 dev tap$t &&
		$IP link set tap$t up || die "tap$t"
done
unshare -n sleep 100000 &
NSPID=$!
sleep 0.5
{ $IP link add veth0 type veth peer name veth1 &&
	$IP link set veth1 netns $NSPID &&
	$IP addr add 10.0.4.1/24 dev veth0 && $IP link set veth0 up &&
	nsenter -t $NSPID -n $IP link set lo up &&
	nsenter -t $NSPID -n $IP addr add 10.0.4.15/24 dev veth1 &&
	nsenter -t $NSPID -n $IP link set veth1 up; } || die "veth"

addr_of() {
	case $1 in
	kiln-vmm) echo 10.0.2.15 ;;
	qemu) echo 10.0.3.15 ;;
	process) echo 10.0.4.15 ;;
	esac
}

# start CONF NAME CPIO PROGRAM ARGS...: the server of CONF in the
# background; its pid (the VM's, for the counters) in PID_<conf>.
start() {
	conf=$1 name=$2 cpio=$3
	shift 3
	ip4=$(addr_of "$conf")
	gw=${ip4%.15}.1
	kcmd="console=ttyS0 kiln.ip=$ip4/24 kiln.gw=$gw"
	case $conf in
	kiln-vmm)
		"$K/kiln-vmm" --kernel "$K/kiln.elf" --initrd "$K/$cpio" \
			--memory "$MEM" --net tap0 --cmdline "$kcmd" $VMM_FLAGS \
			</dev/null >"$T/$name.$conf.out" 2>&1 &
		PID_vmm=$!
		;;
	qemu)
		qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off,rtc=on \
			-accel "$QEMU_ACCEL" -m "$MEM" -nodefaults -no-user-config \
			-display none -no-reboot -kernel "$K/kiln.elf" \
			-initrd "$K/$cpio" -append "$kcmd" \
			-serial "file:$T/$name.$conf.out" \
			-global virtio-mmio.force-legacy=false \
			-netdev tap,id=n0,ifname=tap1,script=no,downscript=no \
			-device virtio-net-device,netdev=n0,mac=52:54:00:00:03:15 \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			</dev/null >"$T/$name.$conf.err" 2>&1 &
		PID_qemu=$!
		;;
	process)
		nsenter -t $NSPID -n "$@" </dev/null >"$T/$name.$conf.out" 2>&1 &
		PID_process=$!
		;;
	esac
}

pid_of() {
	case $1 in
	kiln-vmm) echo "$PID_vmm" ;;
	qemu) echo "$PID_qemu" ;;
	process) echo "$PID_process" ;;
	esac
}

# counters CONF: KEY=VALUE words: the VM's KVM statistics (debugfs,
# summed over its vCPUs: kvm_*), the server's CPU time (/proc/PID/stat, in
# clock ticks, all threads: utime includes gtime, the time the vCPU ran
# the guest) and this CPU's (/proc/stat: cpu_*).
counters() {
	p=$(pid_of "$1")
	dir=$(ls -d /sys/kernel/debug/kvm/"$p"-* 2>/dev/null | head -n 1)
	if [ -n "$dir" ] && [ "$1" != process ]; then
		for f in exits mmio_exits io_exits irq_injections halt_exits irq_exits \
			irq_window_exits insn_emulation signal_exits; do
			printf 'kvm_%s=%s ' "$f" "$(cat "$dir/$f" 2>/dev/null || echo 0)"
		done
	fi
	# The process config's pid is nsenter's, which execs the server.
	[ -r "/proc/$p/stat" ] && sed 's/^.*) //' "/proc/$p/stat" |
		awk '{ printf "utime=%s stime=%s gtime=%s ", $12, $13, $41 }'
	awk '/^cpu / { printf "cpu_user=%s cpu_nice=%s cpu_system=%s cpu_idle=%s cpu_iowait=%s cpu_irq=%s cpu_softirq=%s cpu_guest=%s", $2, $3, $4, $5, $6, $7, $8, $10 }' /proc/stat
	echo
}

# up PHASE PORT: each server in turn is started (start_PHASE CONF) and
# answers (connect works) before the next boots: kiln calibrates its APIC
# timer over one millisecond at its first sleep, and a guest that boots
# while another VM loads the CPU can get it wrong (see docs/bench-net.md).
# Then the idle rate of wake-ups (HLT exits per second over 2 s) of each
# VM, which shows such a guest.
# With UP_DROP=1 a server that does not come up is reported (F down,
# its output as o lines) and left out of CONFS instead of ending the run.
up() {
	for c in $CONFS; do
		"start_$1" "$c"
		"$K/blast" wait "$(addr_of "$c")" "$2" 120 && continue
		[ "${UP_DROP:-0}" = 1 ] || { cat "$T/$1.$c".*; die "$1 on $c did not come up"; }
		echo "F down $1 $c"
		drop "$c" "$1"
	done
	sleep 1
	for c in $CONFS; do
		h0=$(halts "$c")
		sleep 2
		h1=$(halts "$c")
		[ -n "$h0" ] && echo "F idle_wakeups $1 $c $(((h1 - h0) / 2))"
	done
}

# halts CONF: the VM's HLT exits so far (empty without debugfs).
halts() {
	dir=$(ls -d /sys/kernel/debug/kvm/"$(pid_of "$1")"-* 2>/dev/null | head -n 1)
	[ -n "$dir" ] && [ "$1" != process ] && cat "$dir/halt_exits"
}

stop_all() {
	for c in $CONFS; do
		p=$(pid_of "$c")
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	wait_pids=""
	for c in $CONFS; do wait_pids="$wait_pids $(pid_of "$c")"; done
	# shellcheck disable=SC2086 # a list of pids
	wait $wait_pids 2>/dev/null
	for c in $CONFS; do
		for f in "$T/$1.$c".*; do
			[ -s "$f" ] && sed "s/^/o $c $1: /" "$f" | tr -d '\r'
		done
	done
}

# drop CONF PHASE: stops CONF's server, prints its output as o lines and
# takes it out of CONFS (a server that never came up or hung).
drop() {
	p=$(pid_of "$1")
	[ -n "$p" ] && kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	for f in "$T/$2.$1".*; do
		[ -s "$f" ] && sed "s/^/o $1 $2: /" "$f" | tr -d '\r'
	done
	CONFS=$(echo $CONFS | tr ' ' '\n' | grep -v -x -- "$1" | tr '\n' ' ')
}

# rotate ROUND: $CONFS rotated left by ROUND.
rotate() {
	n=$(echo "$CONFS" | wc -w)
	k=$(($1 % n))
	i=0 head="" tail=""
	for c in $CONFS; do
		if [ $i -lt $k ]; then tail="$tail $c"; else head="$head $c"; fi
		i=$((i + 1))
	done
	echo $head $tail
}
