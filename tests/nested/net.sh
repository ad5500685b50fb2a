#!/bin/bash
# kiln-vmm's virtio-net device on real KVM, on a machine without /dev/kvm:
# one nested-KVM guest (scripts/nested-kvm.sh) loads tun.ko (taken from
# the same Debian kernel package the harness already fetched), creates a
# tap with busybox tunctl, and runs kiln-vmm --net on it with kiln's
# kernel and a sleeping program.  Inside that Linux guest, busybox ping
# then talks to the kiln guest through the tap: small echoes, a burst, and
# 4000-byte echoes (fragmented and reassembled by lwIP).  It also checks
# the errors before boot (a missing tap, a tap in use), both interrupt
# paths with tests/nested/netfx.c (a guest that programs its IOAPIC pin
# edge- or level-triggered and pokes invalid registers), and that a guest
# which never drives the device still exits normally.  Everything lives
# in the throw-away nested guest; nothing touches the host's network.
# Prints "N passed, M failed"; not part of `make test` (one nested boot
# costs 10-30 s of QEMU TCG).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
W=$ROOT/build/nested/net
rm -rf "$W"
mkdir -p "$W/in"

for f in build/kiln-vmm.static build/kiln.elf build/kiln; do
	[ -e "$f" ] || { echo "net: $f missing (run make)" >&2; exit 2; }
done
deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
	# The harness fetches the kernel package on its first run.
	scripts/nested-kvm.sh --timeout 300 -- true >/dev/null
	deb=$(find build/nested/debs -maxdepth 1 -name 'linux-image-*.deb' | head -n1)
fi
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -C "$W" --wildcards './lib/modules/*/kernel/drivers/net/tun.ko*'
tun=$(find "$W/lib" -name 'tun.ko*' | head -n1)
case $tun in
*.xz) xz -dc "$tun" >"$W/in/tun.ko" ;;
*.zst) zstd -qdc "$tun" >"$W/in/tun.ko" ;;
*) cp "$tun" "$W/in/tun.ko" ;;
esac
cp build/kiln-vmm.static "$W/in/kiln-vmm"
cp build/kiln.elf "$W/in/kiln.elf"
make -s build/tests/unit/vmm_fixture_pvh.elf
cp build/tests/unit/vmm_fixture_pvh.elf "$W/in/fx.elf"
# The driver-side fixture (see its header), linked like vmm_fixture_pvh.
cc -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -static \
	-no-pie -fno-pic -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fcf-protection=none \
	-Wl,-Ttext-segment=0x100000 -Wl,-z,max-page-size=4096 \
	-Wl,--build-id=none -Wl,-e,pvh_start -o "$W/in/netfx.elf" \
	tests/nested/netfx.c
build/kiln pack -o "$W/in/sleep.cpio" /bin/sleep 60

cat >"$W/in/guest.sh" <<'GUEST'
d=/net
ok() { echo "case $1 ok"; }
fail() { echo "case $1 FAIL ($2)"; }
insmod $d/tun.ko || { fail tun "insmod"; exit 1; }
tunctl -t tap0 >/dev/null && ip addr add 10.0.2.1/24 dev tap0 &&
	ip link set tap0 up || { fail tap "tunctl/ip"; exit 1; }

# Errors before boot.
$d/kiln-vmm --kernel $d/kiln.elf --net nosuch0 >/tmp/e 2>&1
st=$?; cat /tmp/e
if [ $st = 125 ] && grep -q "tap device 'nosuch0' does not exist" /tmp/e; then
	ok missing-tap; else fail missing-tap "status $st"; fi

$d/kiln-vmm --kernel $d/kiln.elf --initrd $d/sleep.cpio --memory 64 \
	--net tap0 --mac 52:54:00:12:34:56 --timeout 120 --trace-boot \
	--cmdline "console=ttyS0 kiln.ip=10.0.2.15/24 kiln.gw=10.0.2.1" \
	>/tmp/vmm.out 2>&1 </dev/null &
pid=$!
sleep 1
$d/kiln-vmm --kernel $d/kiln.elf --net tap0 >/tmp/e 2>&1
st=$?; cat /tmp/e
if [ $st = 125 ] && grep -q "tap device 'tap0' is already in use" /tmp/e; then
	ok busy-tap; else fail busy-tap "status $st"; fi

up=0
for i in $(seq 1 60); do
	if ping -c 1 -W 1 10.0.2.15 >/tmp/p 2>&1; then up=1; break; fi
done
if [ $up = 1 ]; then ok first-ping; else fail first-ping "no reply in 60 s"; fi
ip neigh show dev tap0
if ip neigh show dev tap0 | grep -q 52:54:00:12:34:56; then
	ok mac; else fail mac "neighbour entry is not the --mac address"; fi
ping -c 50 -i 0.05 -W 2 10.0.2.15 >/tmp/p 2>&1; cat /tmp/p | tail -n 3
if grep -q ' 0% packet loss' /tmp/p; then ok ping-50; else fail ping-50 "loss"; fi
ping -c 5 -s 4000 -W 2 10.0.2.15 >/tmp/p 2>&1; cat /tmp/p | tail -n 3
if grep -q ' 0% packet loss' /tmp/p; then ok ping-4000; else fail ping-4000 "loss"; fi
kill -TERM $pid; wait $pid; st=$?
cat /tmp/vmm.out
if [ $st = 143 ]; then ok sigterm; else fail sigterm "status $st"; fi

# Both interrupt paths, with a guest that programs its IOAPIC pin either
# way (tests/nested/netfx.c): edge -> plain irqfd, level -> resampling.
for m in edge level; do
	$d/kiln-vmm --kernel $d/netfx.elf --net tap0 --timeout 60 \
		--trace-boot --cmdline "fxmode=$m" >/tmp/e 2>&1
	st=$?; cat /tmp/e
	want="(irqfd)"; [ $m = level ] && want="(irqfd+resample)"
	if [ $st = 0 ] && grep -q "netfx: $m-triggered pin, 5 ARP replies" /tmp/e &&
		grep -q "interrupts $want, 0 notifications by MMIO exit" /tmp/e; then
		ok fx-$m; else fail fx-$m "status $st"; fi
done

# A guest that never touches the device: the I/O thread starts and stops.
$d/kiln-vmm --kernel $d/fx.elf --net tap0 --timeout 30 >/tmp/e 2>&1
st=$?; cat /tmp/e
if [ $st = 42 ]; then ok unused-device; else fail unused-device "status $st"; fi
GUEST

start=$(date +%s)
set +e
scripts/nested-kvm.sh --timeout 900 --add "$W/in:/net" -- sh /net/guest.sh | tee "$W/out"
rc=${PIPESTATUS[0]}
set -e
echo "net: nested guest exit $rc after $(($(date +%s) - start))s" >&2
passed=$(grep -c '^case .* ok$' "$W/out" || true)
failed=$(grep -c '^case .* FAIL' "$W/out" || true)
[ "$passed" = 10 ] || failed=$((10 - passed))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
