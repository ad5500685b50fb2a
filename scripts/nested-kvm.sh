#!/bin/bash
# Run a command inside a Linux guest that has a working /dev/kvm, on a host
# that has none (this machine and CI are PVM guests without /dev/kvm).
#
# The guest is Debian's stock kernel booted under QEMU TCG (pure software
# emulation) with "-cpu max", which emulates AMD SVM including nested paging;
# the kvm_amd module loads against that emulated SVM, so KVM code (kiln-vmm)
# runs for real inside the guest, just slowly.  The kernel and busybox come
# from Debian packages fetched with `apt-get download` and unpacked into
# build/nested/ only: nothing on the host is installed or changed.
#
# Usage: scripts/nested-kvm.sh [OPTIONS] [--add HOSTPATH[:GUESTPATH]]... -- COMMAND [ARGS]
#   --add HOST[:GUEST]  copy a host file or directory into the guest's
#                       initramfs (GUEST defaults to HOST; symlinks followed)
#   --mem MB            guest memory (default 1024)
#   --smp N             guest vCPUs (default 1)
#   --timeout SECONDS   kill the guest after this long (default 600)
#   --cpu MODEL         QEMU CPU model (default max; it must expose svm)
#   --append WORDS      extra kernel command line
#   -v, --verbose       show the guest kernel's log and timings
# COMMAND runs as root in the guest with cwd /, after /dev/kvm appeared.
# Exit status: the command's own; 124 if the timeout expired; 125 if the
# harness failed (no /dev/kvm in the guest, QEMU died, no status reported).
# Environment: NESTED_KERNEL_PKG pins the kernel package (default: the one
# linux-image-amd64 depends on); NESTED_DIR overrides build/nested.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${NESTED_DIR:-$ROOT/build/nested}
MARK=NESTED-KVM-EXIT

mem=1024
smp=1
timeout_s=600
cpu=max
append=""
verbose=0
adds=()

nested_die() {
	echo "nested-kvm: $*" >&2
	exit 125
}

while [ $# -gt 0 ]; do
	case $1 in
	--add) [ $# -ge 2 ] || nested_die "--add needs HOSTPATH[:GUESTPATH]"; adds+=("$2"); shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	--) shift; break ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) nested_die "unknown option '$1' (usage: scripts/nested-kvm.sh [--add HOST:GUEST]... -- COMMAND ARGS)" ;;
	esac
done
[ $# -gt 0 ] || nested_die "no command given (usage: scripts/nested-kvm.sh [--add HOST:GUEST]... -- COMMAND ARGS)"
command -v qemu-system-x86_64 >/dev/null || nested_die "qemu-system-x86_64 not found (run scripts/deps.sh)"
command -v cpio >/dev/null || nested_die "cpio not found (run scripts/deps.sh)"

# apt-get download as root warns that the _apt sandbox user cannot write
# into build/; downloading as root into our own directory is what we want.
nested_download() { # DIR PKG
	(cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$2" >/dev/null) && return 0
	# A fresh machine may have no package lists yet.
	apt-get update -qq >/dev/null 2>&1 || true
	(cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$2" >/dev/null) ||
		nested_die "cannot download Debian package '$2' (try: apt-get update)"
}

# Print the depends= list of a kernel module (comma separated in modinfo).
nested_moddeps() {
	grep -a -o -m1 'depends=[a-z0-9_,-]*' "$1" | head -n1 | sed 's/^depends=//; s/,/ /g'
}

# Kernel: vmlinuz plus kvm-amd.ko and its dependency closure, in load order.
nested_fetch_kernel() {
	local pkg=${NESTED_KERNEL_PKG:-}
	if [ -z "$pkg" ] && [ -f "$N/kernel/vmlinuz" ] && [ -f "$N/kernel/modules/order" ]; then
		return 0
	fi
	if [ -z "$pkg" ]; then
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
		if [ -z "$pkg" ]; then
			apt-get update -qq >/dev/null 2>&1 || true
			pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
				awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
		fi
		[ -n "$pkg" ] || nested_die "cannot resolve linux-image-amd64 to a kernel package (try: apt-get update)"
	fi
	if [ -f "$N/kernel/pkg" ] && [ "$(cat "$N/kernel/pkg")" = "$pkg" ]; then
		return 0
	fi
	echo "nested-kvm: fetching $pkg (once)" >&2
	mkdir -p "$N/debs"
	local deb
	deb=$(find "$N/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
	if [ -z "$deb" ]; then
		nested_download "$N/debs" "$pkg"
		deb=$(find "$N/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
	fi
	local x=$N/kernel.tmp
	rm -rf "$x" "$N/kernel.new"
	mkdir -p "$x" "$N/kernel.new/modules"
	# Unpack only what we need: the image and the kvm-related modules.
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$x" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/arch/x86/kvm/*' \
			'./lib/modules/*/kernel/virt/*' './lib/modules/*/kernel/drivers/crypto/ccp/*'
	cp "$x"/boot/vmlinuz-* "$N/kernel.new/vmlinuz"
	local order=""
	# Depth-first over depends=, emitting a module after its dependencies.
	nested_visit() {
		local name=$1 file dep
		case " $order " in *" $name "*) return 0 ;; esac
		file=$(find "$x/lib/modules" \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" \
			-o -name "${name//-/_}.ko" -o -name "${name//_/-}.ko" \) | head -n1)
		[ -n "$file" ] || nested_die "module '$name' not found in $pkg"
		case $file in
		*.xz) xz -dc "$file" >"$N/kernel.new/modules/$name.ko" ;;
		*.zst) zstd -qdc "$file" >"$N/kernel.new/modules/$name.ko" ;;
		*) cp "$file" "$N/kernel.new/modules/$name.ko" ;;
		esac
		for dep in $(nested_moddeps "$N/kernel.new/modules/$name.ko"); do
			nested_visit "$dep"
		done
		order="$order $name"
	}
	nested_visit kvm-amd
	echo "${order# }" >"$N/kernel.new/modules/order"
	echo "$pkg" >"$N/kernel.new/pkg"
	rm -rf "$x" "$N/kernel"
	mv "$N/kernel.new" "$N/kernel"
}

nested_fetch_busybox() {
	[ -x "$N/busybox" ] && return 0
	echo "nested-kvm: fetching busybox-static (once)" >&2
	mkdir -p "$N/debs"
	local deb
	deb=$(find "$N/debs" -maxdepth 1 -name 'busybox-static_*.deb' | head -n1)
	if [ -z "$deb" ]; then
		nested_download "$N/debs" busybox-static
		deb=$(find "$N/debs" -maxdepth 1 -name 'busybox-static_*.deb' | head -n1)
	fi
	rm -rf "$N/bb.tmp"
	mkdir -p "$N/bb.tmp"
	dpkg-deb -x "$deb" "$N/bb.tmp"
	cp "$N/bb.tmp/bin/busybox" "$N/busybox.new"
	rm -rf "$N/bb.tmp"
	mv "$N/busybox.new" "$N/busybox"
}

mkdir -p "$N"
# Several runs may share build/nested: fetch and unpack under one lock.
exec 9>"$N/.lock"
flock 9
nested_fetch_kernel
nested_fetch_busybox
flock -u 9
exec 9>&-

# Quote one word for a POSIX shell (busybox sh reads the command script).
nested_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

run=$(mktemp -d "$N/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
ird=$run/root
mkdir -p "$ird"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,lib/modules}
cp "$N/busybox" "$ird/bin/busybox"
cp "$N"/kernel/modules/* "$ird/lib/modules/"

cat >"$ird/init" <<EOF
#!/bin/busybox sh
# Generated by scripts/nested-kvm.sh: load kvm_amd, run /nested-cmd, report.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
status=0
for m in \$(cat /lib/modules/order); do
	insmod /lib/modules/\$m.ko || { echo "nested-kvm: insmod \$m failed"; status=125; }
done
if [ ! -c /dev/kvm ]; then
	echo "nested-kvm: /dev/kvm did not appear in the guest"
	grep -o -w -E 'svm|npt|nrip_save' /proc/cpuinfo | sort -u | tr '\n' ' '
	echo
	dmesg | grep -i -E 'kvm|svm|ccp'
	status=125
else
	[ $verbose = 1 ] && echo "nested-kvm: /dev/kvm ready at \$(cut -d' ' -f1 /proc/uptime)s guest uptime"
	cd /
	sh /nested-cmd
	status=\$?
fi
echo "$MARK \$status"
poweroff -f
EOF
chmod 755 "$ird/init"

{
	echo '#!/bin/sh'
	printf 'exec'
	for w in "$@"; do printf ' %s' "$(nested_quote "$w")"; done
	echo
} >"$ird/nested-cmd"
chmod 755 "$ird/nested-cmd"

for spec in "${adds[@]+"${adds[@]}"}"; do
	host=${spec%%:*}
	guest=${spec#*:}
	[ "$guest" != "$spec" ] || guest=$host
	case $guest in /*) ;; *) guest=/$guest ;; esac
	[ -e "$host" ] || nested_die "cannot add '$host': No such file or directory"
	mkdir -p "$ird$(dirname "$guest")"
	cp -rL "$host" "$ird$guest"
done

(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$run/initrd.cpio"

if [ $verbose = 1 ]; then
	loglevel="loglevel=7"
else
	loglevel="quiet loglevel=1"
fi

log=$run/console.log
start=$(date +%s.%N)
set +e
# The serial console is the guest's only output; stdin is /dev/null so a
# CI run without a terminal behaves like an interactive one.
# Machine "pc", not microvm: microvm has no HPET or ACPI PM timer, so when
# the host is loaded the kernel's TSC calibration against the PIT fails under
# TCG and boot hangs at "Marking TSC unstable"; pc's timers avoid that.
# -nodefaults drops VGA, so SeaBIOS prints nothing on the serial console.
timeout "$timeout_s" qemu-system-x86_64 -M pc -accel tcg -cpu "$cpu" \
	-m "$mem" -smp "$smp" -nodefaults -no-user-config -display none \
	-serial stdio -no-reboot \
	-kernel "$N/kernel/vmlinuz" -initrd "$run/initrd.cpio" \
	-append "console=ttyS0 $loglevel panic=-1$append" </dev/null |
	tr -d '\r' | tee "$log" | sed -u -e "/^$MARK [0-9]*\$/d" -e "s/$MARK [0-9]*\$//" \
		-e '/^\[ *[0-9.]*\] reboot: Power down$/d'
rcs=("${PIPESTATUS[@]}")
set -e
end=$(date +%s.%N)
[ $verbose = 1 ] && echo "nested-kvm: guest ran $(awk "BEGIN { printf \"%.1f\", $end - $start }")s wall" >&2

if [ "${rcs[0]}" = 124 ]; then
	echo "nested-kvm: timeout after ${timeout_s}s (raise it with --timeout)" >&2
	exit 124
fi
status=$(grep -o "$MARK [0-9]*" "$log" | tail -n1 | cut -d' ' -f2 || true)
if [ -z "$status" ]; then
	echo "nested-kvm: the guest reported no exit status (qemu exit ${rcs[0]}; rerun with -v for the kernel log)" >&2
	exit 125
fi
exit "$status"
