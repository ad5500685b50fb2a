#!/bin/sh
# kiln-vmm's virtio-net device on real KVM: tests/nested/net.sh boots one
# nested-KVM Linux guest (scripts/nested-kvm.sh; this machine has no
# /dev/kvm) where kiln-vmm --net runs kiln's kernel on a tap enslaved to a
# bridge.  There, busybox ping checks the device (first reply, the --mac
# address, a burst, 4000-byte echoes, SIGTERM, both IOAPIC trigger modes,
# a guest that never drives the device, the before-boot errors), and the
# checks tests/e2e/net_tcp.sh makes on QEMU run again on kiln-vmm: httpd
# (page, 10 MiB sha256, 404, 100 keep-alive clients, clients that give up),
# UDP echo, and net_client as a client of tests/net/servers.py, whose
# output is judged by the same tests/net/client_checks.sh.  Each case of
# the one boot becomes one check here.  All traffic stays in the
# throw-away nested guest.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

LOG=$(log_path "$SCENARIO/run")
mkdir -p "$(dirname "$LOG")"
run_limited 1200 "$LOG" = bash tests/nested/net.sh

# case_check CASE NAME: the verdict tests/nested/net_guest.sh printed.
case_check() {
	nested_case_check "$LOG" "$@"
}
for c in missing-tap busy-tap first-ping mac ping-50 ping-4000 sigterm \
	fx-edge fx-level unused-device; do
	case_check "$c" "kiln-vmm --net $c"
done
case_check httpd-start "kiln-vmm: httpd starts and serves"
case_check httpd-page "kiln-vmm: httpd serves the index page byte-exact"
case_check httpd-10mib "kiln-vmm: a 10 MiB random file arrives with the same sha256"
case_check httpd-404 "kiln-vmm: a missing file is a 404"
case_check httpd-clients "kiln-vmm: 100 concurrent keep-alive clients all get 200s"
case_check httpd-abort "kiln-vmm: clients that give up mid-transfer leave the server serving"
case_check httpd-log "kiln-vmm: httpd logged every request, SIGTERM stops it, the kernel complained of nothing"
case_check udp-echo "kiln-vmm: a UDP echo guest echoes datagrams of 1 to 65507 bytes"
case_check client-run "kiln-vmm: the guest as a client: all of net_client's checks pass"

# net_client's own lines, judged as net_tcp.sh judges them on QEMU.
check_begin "kiln-vmm: net_client's output reached the log"
sed -n 's/^client: //p' "$LOG" | tr -d '\r' >"$KILN_TEST_TMP/client.out"
[ -s "$KILN_TEST_TMP/client.out" ] || {
	rm -f "$KILN_TEST_TMP/client.out"
	fail_because "no 'client:' lines in $LOG"
}
check_end
. "$KILN_ROOT/tests/net/client_checks.sh"
net_client_verdicts "$KILN_TEST_TMP/client.out" "kiln-vmm: "
