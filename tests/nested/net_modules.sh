#!/bin/sh
# Usage: tests/nested/net_modules.sh DIR
# Puts into DIR the modules a nested-KVM guest (scripts/nested-kvm.sh)
# needs for a tap on a bridge, taken from the same Debian kernel package
# the harness boots (fetched on its first run): tun.ko, llc.ko, stp.ko,
# bridge.ko, uncompressed, and DIR/order, their names in load order
# (tests/nested/guest_lib.sh's guest_bridge loads them).  Used by
# tests/nested/net.sh and tests/e2e/vmm_apps.sh.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
out=$1
deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
	# The harness fetches the kernel package on its first run.
	scripts/nested-kvm.sh --timeout 300 -- true >/dev/null
	deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' | head -n1)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
# tun for the tap; llc, stp and bridge (in load order) for the bridge.
mods="tun llc stp bridge"
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -C "$tmp" --wildcards './lib/modules/*/kernel/drivers/net/tun.ko*' \
		'./lib/modules/*/kernel/net/llc/llc.ko*' \
		'./lib/modules/*/kernel/net/802/stp.ko*' \
		'./lib/modules/*/kernel/net/bridge/bridge.ko*'
for m in $mods; do
	ko=$(find "$tmp/lib" -name "$m.ko*" | head -n1)
	case $ko in
	*.xz) xz -dc "$ko" >"$out/$m.ko" ;;
	*.zst) zstd -qdc "$ko" >"$out/$m.ko" ;;
	*) cp "$ko" "$out/$m.ko" ;;
	esac
done
echo "$mods" >"$out/order"
