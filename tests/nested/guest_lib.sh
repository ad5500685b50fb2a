# Shell functions for the in-guest halves of the nested-KVM scenarios
# (tests/nested/net_guest.sh, tests/nested/apps_guest.sh): busybox sh in
# the nested Linux guest, sourced after setting d (the directory the
# host added, holding kiln-vmm, kiln.elf and mod/) and KCMD (the kernel
# command line of the kiln guests).  Verdicts are "case NAME ok" or
# "case NAME FAIL (why)" lines, which the host-side scenario reads.

ok() { echo "case $1 ok"; }
fail() { echo "case $1 FAIL ($2)"; }
now() { cut -d. -f1 /proc/uptime; }

# count FILE REGEX: lines of FILE matching REGEX.
count() { grep -c -E -e "$2" "$1"; }

# guest_bridge HOST_IP: loads the modules in $d/mod/order (tun, the
# bridge's) and makes the host side of the kiln guests' link as a host
# would: bridge br0 holding HOST_IP/24, tap0 enslaved to it.  Exits the
# script with a "setup" verdict on failure.
guest_bridge() {
	for m in $(cat $d/mod/order); do
		insmod $d/mod/$m.ko || { fail setup "insmod $m"; exit 1; }
	done
	{ brctl addbr br0 && ip addr add $1/24 dev br0 && ip link set br0 up &&
		tunctl -t tap0 >/dev/null && brctl addif br0 tap0 &&
		ip link set tap0 up; } ||
		{ fail setup "bridge and tap"; exit 1; }
}

# vmm_run NAME CPIO MIB WORDS: kiln-vmm on tap0 with kiln's kernel, the
# command line KCMD and WORDS; the console and then, on a line of its
# own, "kiln-vmm-status N" in /tmp/NAME.raw.
vmm_run() {
	$d/kiln-vmm --kernel $d/kiln.elf --initrd "$2" --memory "$3" \
		--net tap0 --timeout 400 --trace-boot --cmdline "$KCMD $4" \
		</dev/null >"/tmp/$1.raw" 2>&1
	echo "kiln-vmm-status $?" >>"/tmp/$1.raw"
}
# vmm_bg NAME CPIO MIB WORDS: vmm_run in the background; $vpid, and
# /tmp/NAME.out is the console so far without \r (vmm_sync).
vmm_bg() {
	vmm_run "$@" &
	vpid=$!
	vname=$1
}
vmm_sync() { tr -d '\r' <"/tmp/$vname.raw" >"/tmp/$vname.out"; }
# vmm_wait_line REGEX SECONDS: until the console shows REGEX.
vmm_wait_line() {
	end=$(($(now) + $2))
	while [ "$(now)" -lt "$end" ]; do
		vmm_sync
		grep -q -E -e "$1" "/tmp/$vname.out" && return 0
		kill -0 $vpid 2>/dev/null || break
		sleep 0.2
	done
	vmm_sync
	grep -q -E -e "$1" "/tmp/$vname.out"
}
# vmm_end [SIGNAL]: stops (or just waits for) the guest; $vst its status.
vmm_end() {
	[ $# -gt 0 ] && kill "-$1" "$(pidof kiln-vmm)" 2>/dev/null
	wait $vpid
	vmm_sync
	vst=$(sed -n 's/^kiln-vmm-status //p' "/tmp/$vname.out")
}
