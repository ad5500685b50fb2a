#!/bin/sh
# Sourced by the nested benchmarks (bench/net_nested.sh,
# bench/apps_nested.sh): the host-side steps they share around one boot
# of scripts/nested-kvm.sh.  Run from the repository's root; each
# function dies through bench_die (defined by the caller).
#   nested_modules K W      tun.ko and veth.ko from the nested kernel's
#                           package into K/mod, with K/mod/order
#   nested_libs BIN...      the libraries the binaries load (ldd)
#   nested_qemu_data W CPIO the firmware and data files QEMU opens for
#                           microvm booting kiln with CPIO (strace)
#   nested_run LOG W TIMEOUT MIB ARGS...
#                           scripts/nested-kvm.sh ARGS, output to
#                           LOG.new, P and "F failed" lines echoed;
#                           sets nested_status and nested_t0
#   nested_facts            the H lines both reports read

nested_modules() {
	deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' 2>/dev/null | head -n1)
	if [ -z "$deb" ]; then
		scripts/nested-kvm.sh --timeout 300 -- true >/dev/null
		deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' | head -n1)
	fi
	rm -rf "$2/mods"
	mkdir -p "$1/mod" "$2/mods"
	# tun for the taps, veth for the process's link.
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$2/mods" --wildcards \
		'./lib/modules/*/kernel/drivers/net/tun.ko*' \
		'./lib/modules/*/kernel/drivers/net/veth.ko*'
	for m in tun veth; do
		ko=$(find "$2/mods" -name "$m.ko*" | head -n1)
		case $ko in
		*.xz) xz -dc "$ko" >"$1/mod/$m.ko" ;;
		*.zst) zstd -qdc "$ko" >"$1/mod/$m.ko" ;;
		*) cp "$ko" "$1/mod/$m.ko" ;;
		esac
	done
	echo "tun veth" >"$1/mod/order"
}

nested_libs() {
	for b in "$@"; do ldd "$b"; done | grep -o '/[^ ]*' | sort -u
}

# The guest is busybox: QEMU comes with the firmware it opens for microvm
# (what strace sees on this host, plus the two microvm always needs), as
# bench/boot_nested.sh does.
nested_qemu_data() {
	data="/usr/share/qemu/qboot.rom /usr/share/qemu/bios-microvm.bin"
	if command -v strace >/dev/null; then
		# CPIO is a guest that exits at once, so QEMU opens
		# everything it needs for this machine and ends.
		strace -f -qq -e trace=open,openat,access -o "$1/qemu.strace" \
			timeout 60 qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off,rtc=on \
			-accel tcg -m 128 -nodefaults -no-user-config \
			-display none -no-reboot -kernel build/kiln.elf \
			-initrd "$2" -append console=ttyS0 -serial null \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-global virtio-mmio.force-legacy=false \
			-netdev user,id=n0 -device virtio-net-device,netdev=n0 \
			</dev/null >/dev/null 2>&1 || true
		data="$data $(grep -v ENOENT "$1/qemu.strace" | grep -o '"/usr/[^"]*share/[^"]*"' |
			tr -d '"' | xargs -r realpath -s | sort -u | tr '\n' ' ')"
	fi
	for d in $(echo "$data" | tr ' ' '\n' | sort -u); do
		[ -f "$d" ] && echo "$d"
	done
}

nested_run() {
	log=$1 w=$2 tmo=$3 mib=$4
	shift 4
	nested_load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	nested_t0=$(date +%s)
	rm -f "$w/status"
	{
		st=0
		bash scripts/nested-kvm.sh --mem "$mib" --smp 1 --timeout "$tmo" \
			"$@" 2>&1 || st=$?
		echo "$st" >"$w/status"
	} | tee "$log.new" | grep --line-buffered -E '^(P|F failed) ' | sed -u 's/^/bench:   /'
	nested_status=$(cat "$w/status" 2>/dev/null || echo 125)
}

nested_facts() {
	echo "H where nested"
	echo "H nested_status $nested_status"
	echo "H nested_wall_s $(($(date +%s) - nested_t0))"
	echo "H loadavg_before $nested_load_before"
	echo "H loadavg_after $(cut -d' ' -f1-3 /proc/loadavg)"
}
