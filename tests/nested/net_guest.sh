#!/bin/sh
# The in-guest half of tests/nested/net.sh (read its header): runs in the
# nested-KVM Linux guest (busybox, /dev/kvm), everything under /net.  One
# line per case: "case NAME ok" or "case NAME FAIL (why)"; net_client's
# output comes out as "client: ..." lines.  Each kiln guest is bounded by
# kiln-vmm --timeout and every wait polls with a generous limit, since the
# whole guest runs under software emulation on a shared host.
# CASES: the case names, in order (tests/e2e/vmm_net.sh names each one).
CASES="missing-tap busy-tap first-ping mac ping-50 ping-4000 sigterm
fx-edge fx-level unused-device httpd-start httpd-page httpd-10mib httpd-404
httpd-clients httpd-abort httpd-log udp-echo client-run"
d=/net
HOST=10.0.2.1
GUEST=10.0.2.15
URL=http://$GUEST:8080
KCMD="console=ttyS0 kiln.ip=$GUEST/24 kiln.gw=$HOST kiln.hostname=kiln-guest"
PY="python3 -S"
export PYTHONDONTWRITEBYTECODE=1

. $d/guest_lib.sh

set -u
# The host side of the guest's link (as net_tcp.sh makes it on QEMU),
# and a route where SYNs vanish.
guest_bridge $HOST
ip route add blackhole 10.0.99.0/24 || { fail setup "route"; exit 1; }

# 1. The device itself --------------------------------------------------------

# Errors before boot.
$d/kiln-vmm --kernel $d/kiln.elf --net nosuch0 >/tmp/e 2>&1
st=$?; cat /tmp/e
if [ $st = 125 ] && grep -q "tap device 'nosuch0' does not exist" /tmp/e; then
	ok missing-tap; else fail missing-tap "status $st"; fi

$d/kiln-vmm --kernel $d/kiln.elf --initrd $d/sleep.cpio --memory 64 \
	--net tap0 --mac 52:54:00:12:34:56 --timeout 120 --trace-boot \
	--cmdline "console=ttyS0 kiln.ip=$GUEST/24 kiln.gw=$HOST" \
	>/tmp/vmm.out 2>&1 </dev/null &
pid=$!
sleep 1
$d/kiln-vmm --kernel $d/kiln.elf --net tap0 >/tmp/e 2>&1
st=$?; cat /tmp/e
if [ $st = 125 ] && grep -q "tap device 'tap0' is already in use" /tmp/e; then
	ok busy-tap; else fail busy-tap "status $st"; fi

up=0
for i in $(seq 1 60); do
	if ping -c 1 -W 1 $GUEST >/tmp/p 2>&1; then up=1; break; fi
done
if [ $up = 1 ]; then ok first-ping; else fail first-ping "no reply in 60 s"; fi
ip neigh show dev br0
if ip neigh show dev br0 | grep -q 52:54:00:12:34:56; then
	ok mac; else fail mac "neighbour entry is not the --mac address"; fi
ping -c 50 -i 0.05 -W 2 $GUEST >/tmp/p 2>&1; tail -n 3 /tmp/p
if grep -q ' 0% packet loss' /tmp/p; then ok ping-50; else fail ping-50 "loss"; fi
ping -c 5 -s 4000 -W 2 $GUEST >/tmp/p 2>&1; tail -n 3 /tmp/p
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

# 2. httpd (tests/e2e/net_tcp.sh's checks) ------------------------------------

vmm_bg httpd $d/httpd.cpio 256 ""
if vmm_wait_line '^httpd: serving' 120; then
	ok httpd-start
	code=$($PY $d/py/http_get.py "$URL/" /tmp/index.got 2>&1)
	if [ "$code" = 200 ] && cmp -s $d/srv/index.html /tmp/index.got; then
		ok httpd-page; else fail httpd-page "$code, or the page differs"; fi

	t0=$(cut -d' ' -f1 /proc/uptime)
	code=$($PY $d/py/http_get.py "$URL/big.bin" /tmp/big.got 2>&1)
	t1=$(cut -d' ' -f1 /proc/uptime)
	got=$(sha256sum </tmp/big.got | cut -d' ' -f1)
	echo "10 MiB in $(awk "BEGIN { print $t1 - $t0 }") s (status $code)"
	rm -f /tmp/big.got
	if [ "$code" = 200 ] && [ "$got" = "$(cat $d/srv/big.sha256)" ]; then
		ok httpd-10mib; else fail httpd-10mib "$code, sha256 $got"; fi

	$PY $d/py/http_get.py "$URL/no/such/file.html" /tmp/404.got >/tmp/c 2>&1
	cat /tmp/c
	if grep -q '^404$' /tmp/c && grep -q '^404 Not Found$' /tmp/404.got; then
		ok httpd-404; else fail httpd-404 "$(head -n 1 /tmp/c)"; fi

	$PY $d/py/http_clients.py $GUEST 8080 100 3 $d/srv/index.html >/tmp/c 2>&1
	cat /tmp/c
	if grep -q '^100 clients ok, 0 failed$' /tmp/c; then
		ok httpd-clients; else fail httpd-clients "$(head -n 1 /tmp/c)"; fi

	$PY $d/py/http_abort.py $GUEST 8080 >/tmp/c 2>&1; st=$?
	cat /tmp/c
	code=$($PY $d/py/http_get.py "$URL/index.html" /dev/null 2>&1)
	if [ $st = 0 ] && [ "$code" = 200 ]; then
		ok httpd-abort; else fail httpd-abort "status $st, then $code"; fi
else
	fail httpd-start "no 'httpd: serving' within 120 s"
fi
vmm_end TERM
cat /tmp/httpd.out
n_index=$(count /tmp/httpd.out '^GET /index.html 200 ')
n_big=$(count /tmp/httpd.out '^GET /big.bin 200 10485760$')
if [ "$vst" = 143 ] && [ "$n_index" = 301 ] && [ "$n_big" = 11 ] &&
	! grep -q -E '^kiln: .*(panic|error|fault|assert|cannot|not implemented)' /tmp/httpd.out; then
	ok httpd-log
else
	fail httpd-log "status $vst, $n_index index and $n_big big.bin requests logged (want 143, 301, 11), or a kernel complaint"
fi

# 3. UDP echo -------------------------------------------------------------------

vmm_bg udp $d/udp_echo.cpio 64 ""
if vmm_wait_line '^udp_echo: ready on' 120; then
	$PY $d/py/udp_client.py $GUEST 7777 5 >/tmp/c 2>&1
	cat /tmp/c
	vmm_wait_line '^udp_echo: echoed' 60
	vmm_end
	cat /tmp/udp.out
	if grep -q '^22 datagrams echoed, 0 wrong$' /tmp/c && [ "$vst" = 0 ] &&
		grep -q '^udp_echo: echoed 22 datagrams$' /tmp/udp.out &&
		! grep -q '^not ok' /tmp/udp.out; then
		ok udp-echo; else fail udp-echo "$(tail -n 1 /tmp/c), status $vst"; fi
else
	vmm_end TERM
	cat /tmp/udp.out
	fail udp-echo "no 'udp_echo: ready' within 120 s"
fi

# 4. The guest as a client --------------------------------------------------------

$PY $d/py/servers.py $HOST 9000 /tmp/ready server.test >/tmp/servers.out 2>&1 &
spid=$!
n=0
while [ ! -f /tmp/ready ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
if [ -f /tmp/ready ]; then
	vmm_bg client $d/net_client.cpio 64 "kiln.dns=$HOST"
	vmm_end
	sed 's/^/client: /' /tmp/client.out
	if [ "$vst" = 0 ] && grep -q -E '^net_client: [0-9]+ passed, 0 failed$' /tmp/client.out; then
		ok client-run
	else
		fail client-run "status $vst: $(grep -m 1 '^not ok' /tmp/client.out)"
	fi
else
	cat /tmp/servers.out
	fail client-run "the python servers did not start"
fi
kill $spid 2>/dev/null
