#!/bin/sh
# kiln-vmm's virtio-net device on real KVM: tests/nested/net.sh boots one
# nested-KVM Linux guest (scripts/nested-kvm.sh; this machine has no
# /dev/kvm) where kiln-vmm --net runs kiln's kernel on a tap and busybox
# ping talks to it: first reply, the --mac address, 50 pings and 4000-byte
# pings without loss, SIGTERM, both IOAPIC trigger modes, a guest that
# never drives the device, and the before-boot errors (missing tap, tap in
# use).  Each of its cases becomes one check here.  All traffic stays in
# the throw-away nested guest.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

LOG=$(log_path "$SCENARIO/run")
mkdir -p "$(dirname "$LOG")"
run_limited 1200 "$LOG" = bash tests/nested/net.sh
CASES="missing-tap busy-tap first-ping mac ping-50 ping-4000 sigterm fx-edge fx-level unused-device"
for c in $CASES; do
	name="$SCENARIO: kiln-vmm --net $c"
	if grep -a -q "^case $c ok\$" "$LOG"; then
		test_pass "$name"
	else
		why=$(grep -a "^case $c FAIL" "$LOG" | head -n 1 | sed 's/^case [^ ]* FAIL //')
		test_fail "$name" "${why:-no result (net.sh status $RUN_STATUS)}" "$LOG"
	fi
done
