#!/bin/sh
# kilnd's networks (daemon/network.c over lib/hostnet.c), driven through
# build/tests/dnet/dnet_ctl inside a network namespace this script creates,
# and checked with `ip -j` the way a user would look:
#   - the default network: bridge kiln0, up, 10.88.0.1/16;
#   - three instances: three addresses, MACs and persistent taps on kiln0
#     (single-queue taps with virtio-net headers, as the monitors open them);
#   - a guest booted on one of those taps (QEMU) answers HTTP across the
#     bridge and through a published port (daemon/proxy.c);
#   - stop/start keeps an instance's address and MAC, rm frees them for
#     the next instance;
#   - networks of their own (chosen or picked subnet, long names), a full
#     network, removal refused while in use and allowed after;
#   - bad requests, each one clear error and nothing else changed;
#   - a bridge deleted by hand comes back with its taps on network_restore;
#   - 50 instances attached from 8 threads at once: 50 distinct addresses.
# The namespace, the guest and the driver are removed whatever happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/proxy.inc"

NS=kiln-t-$$
CTL=build/tests/dnet/dnet_ctl
DB=$KILN_TEST_TMP/kiln.db
# Instance ids as kilnd makes them: 64 hex digits.
ID1=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
ID2=b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1
ID3=c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2
ID4=d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3
GUEST_PID=""
PROXY_PID=""

net_cleanup() {
	if [ -n "$GUEST_PID" ]; then
		kill -TERM "$GUEST_PID" 2>/dev/null
		wait "$GUEST_PID" 2>/dev/null
	fi
	exec 3>&- 2>/dev/null
	if [ -n "$PROXY_PID" ]; then
		kill -TERM "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
}
dnet_exit() {
	dnet_st=$?
	net_cleanup
	(exit "$dnet_st")
	lib_exit
}
trap dnet_exit EXIT

if [ ! -x "$CTL" ]; then
	test_fail "$SCENARIO: dnet_ctl" "$CTL missing (run make)"
	exit 0
fi
if ! ip netns add "$NS" 2>/dev/null; then
	test_fail "$SCENARIO: network namespace" "cannot create a network namespace (need root)"
	exit 0
fi
ip -n "$NS" link set lo up

# ctl ARGS...: dnet_ctl on the test's database, in the namespace.
ctl() {
	echo "\$ dnet_ctl DB $*" >>"$CHECK_LOG"
	run_logged 60 ip netns exec "$NS" "$CTL" "$DB" "$@"
}

# ipj ARGS...: `ip -n NS -j ARGS` into $KILN_TEST_TMP/ip.json (logged).
ipj() {
	ip -n "$NS" -j "$@" >"$KILN_TEST_TMP/ip.json" 2>>"$CHECK_LOG"
	{
		echo "\$ ip -j $*"
		cat "$KILN_TEST_TMP/ip.json"
		echo
	} >>"$CHECK_LOG"
}

# pyjson EXPR: evaluates a python expression over the last ipj output
# (bound to j); prints its value.
pyjson() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" \
		"$KILN_TEST_TMP/ip.json" 2>>"$CHECK_LOG"
}

# lease_field FIELD: a field of the lease line in $KOUT.
lease_field() {
	tr ' ' '\n' <"$KOUT" | sed -n "s/^$1=//p" | head -n 1
}

# want_bridge NAME ADDR/PREFIX: NAME is a bridge, up, carrying ADDR/PREFIX.
want_bridge() {
	ipj -d addr show dev "$1"
	got=$(pyjson "'%s %s %s' % (j[0]['linkinfo']['info_kind'], 'UP' in j[0]['flags'], ' '.join('%s/%d' % (a['local'], a['prefixlen']) for a in j[0]['addr_info'] if a['family'] == 'inet'))")
	[ "$got" = "bridge True $2" ] ||
		fail_because "$1: '$got', want a bridge, up, with $2"
}

# masters BRIDGE: the names of its ports, sorted, one line.
masters() {
	ipj link show master "$1"
	pyjson "' '.join(sorted(l['ifname'] for l in j))"
}

# want_no_link NAME
want_no_link() {
	if ip -n "$NS" link show "$1" >/dev/null 2>&1; then
		fail_because "interface $1 still exists"
	fi
}

# want_err REGEX [ERRNO]: the last ctl failed with one line matching
# REGEX (and errno ERRNO, what kilnd turns into the HTTP status).
want_err() {
	want_status 1
	[ -z "${2:-}" ] || want_out "^errno=$2\$"
	n=$(wc -l <"$KERR")
	[ "$n" -eq 1 ] || fail_because "$n lines on stderr, want 1"
	grep -q -E -e "^dnet_ctl: $1\$" "$KERR" ||
		fail_because "stderr '$(cat "$KERR")' does not match '$1'"
}

# 1. The default network ----------------------------------------------------

check_begin "the default network: bridge kiln0, up, 10.88.0.1/16"
ctl init
want_status 0
ctl restore
want_status 0
want_bridge kiln0 10.88.0.1/16
ipj -d link show kiln0
[ "$(pyjson "j[0]['linkinfo']['info_data']['stp_state']")" = 0 ] ||
	fail_because "STP is on (ports would wait 30 s before forwarding)"
ctl ls
want_status 0
want_out '^\[\{"bridge":"kiln0","created":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z","gateway":"10.88.0.1","instances":0,"name":"kiln0","subnet":"10.88.0.0/16"\}\]$'
check_end

# 2. Three instances -------------------------------------------------------------

check_begin "three instances get three addresses, MACs and taps on kiln0"
: >"$KILN_TEST_TMP/leases"
for id in $ID1 $ID2 $ID3; do
	ctl attach kiln0 "$id"
	want_status 0
	cat "$KOUT" >>"$KILN_TEST_TMP/leases"
done
cp "$KILN_TEST_TMP/leases" "$KOUT"
want_out "^network=kiln0 tap=kta1b2c3d4e5f6 ip=10.88.0.2 prefix=16 gateway=10.88.0.1 mac=52:54:00(:[0-9a-f]{2}){3}\$"
want_out "^network=kiln0 tap=ktb2c3d4e5f607 ip=10.88.0.3 prefix=16 gateway=10.88.0.1 mac=52:54:00"
want_out "^network=kiln0 tap=ktc3d4e5f60718 ip=10.88.0.4 prefix=16 gateway=10.88.0.1 mac=52:54:00"
n=$(sed 's/.* mac=//' "$KILN_TEST_TMP/leases" | sort -u | wc -l)
[ "$n" -eq 3 ] || fail_because "$n distinct MACs, want 3"
got=$(masters kiln0)
[ "$got" = "kta1b2c3d4e5f6 ktb2c3d4e5f607 ktc3d4e5f60718" ] ||
	fail_because "ports of kiln0: '$got'"
# What the monitors need: a persistent single-queue tap, no packet-info
# header, virtio-net headers on.
ipj -d link show kta1b2c3d4e5f6
got=$(pyjson "'%s %s' % (j[0]['linkinfo']['info_kind'], sorted(j[0]['linkinfo']['info_data'].items()))")
echo "tap: $got" >>"$CHECK_LOG"
case $got in
"tun [('multi_queue', False), ('persist', True), ('pi', False), ('type', 'tap'), ('vnet_hdr', True)]") ;;
*) fail_because "kta1b2c3d4e5f6 is '$got'" ;;
esac
[ "$(pyjson "'UP' in j[0]['flags']")" = True ] || fail_because "the tap is not up"
ctl ls
want_out '"instances":3,"name":"kiln0"'
check_end

# 3. A guest on a leased tap -------------------------------------------------------

ctl lease $ID1
GUEST_IP=$(lease_field ip)
GUEST_MAC=$(lease_field mac)
GUEST_TAP=$(lease_field tap)
GUEST_OUT=$KILN_TEST_TMP/guest.out
mkdir -p "$KILN_TEST_TMP/srv"
echo "<h1>kiln guest on kiln0</h1>" >"$KILN_TEST_TMP/srv/index.html"

proxy_start

check_begin "a guest booted on a leased tap answers across the bridge and through a published port"
for p in "$KILN" build/kiln.elf examples/httpd; do
	[ -e "$p" ] || fail_because "$p missing (run make)"
done
if [ -z "$CHECK_WHY" ]; then
	echo "\$ kiln run --hypervisor qemu --net $GUEST_TAP --ip $GUEST_IP/16 --gw 10.88.0.1 --mac $GUEST_MAC ... examples/httpd" >>"$CHECK_LOG"
	timeout -k 5 "$KILN_TEST_TIMEOUT" ip netns exec "$NS" "$KILN" run \
		--hypervisor qemu --memory 128M --net "$GUEST_TAP" \
		--ip "$GUEST_IP/16" --gw 10.88.0.1 --mac "$GUEST_MAC" \
		--file "$KILN_TEST_TMP/srv/index.html:/srv/index.html" \
		examples/httpd -r /srv >"$GUEST_OUT" 2>&1 </dev/null &
	GUEST_PID=$!
	end=$(($(date +%s) + 90))
	while [ "$(date +%s)" -lt "$end" ] &&
		! grep -q '^httpd: serving' "$GUEST_OUT"; do
		kill -0 "$GUEST_PID" 2>/dev/null || break
		sleep 0.2
	done
	if grep -q '^httpd: serving' "$GUEST_OUT"; then
		run_logged 30 ip netns exec "$NS" curl -sS -m 20 \
			"http://$GUEST_IP:8080/"
		want_status 0
		want_out '^<h1>kiln guest on kiln0</h1>$'
		pcmd open guest "127.0.0.1:18090:8080" "$GUEST_IP"
		[ "$PREPLY" = ok ] || fail_because "proxy_open: $PREPLY"
		run_logged 30 ip netns exec "$NS" curl -sS -m 20 \
			http://127.0.0.1:18090/
		want_status 0
		want_out '^<h1>kiln guest on kiln0</h1>$'
		pcmd close guest
		# The monitor holds the tap: the tap now has a carrier.
		ipj link show "$GUEST_TAP"
		[ "$(pyjson "j[0]['operstate']")" = UP ] ||
			fail_because "$GUEST_TAP is not UP with the guest running"
	else
		fail_because "the guest did not start within 90 s"
	fi
	kill -TERM "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
	GUEST_PID=""
	{
		echo "--- guest output"
		tr -d '\r' <"$GUEST_OUT"
	} >>"$CHECK_LOG"
fi
check_end

# 4. Stop/start and rm --------------------------------------------------------------

check_begin "detach and attach again: the same address, MAC and tap"
ctl lease $ID1
before=$(cat "$KOUT")
ctl detach $ID1
want_status 0
want_no_link kta1b2c3d4e5f6
ctl lease $ID1
want_out "^$before\$"
ctl attach kiln0 $ID1
want_status 0
want_out "^$before\$"
got=$(masters kiln0)
[ "$got" = "kta1b2c3d4e5f6 ktb2c3d4e5f607 ktc3d4e5f60718" ] ||
	fail_because "ports of kiln0: '$got'"
ctl attach kiln0 $ID1
want_status 0
want_out "^$before\$"
check_end

check_begin "detach with release deletes the tap and frees the address for the next instance"
ctl detach $ID2 release
want_status 0
want_no_link ktb2c3d4e5f607
ctl lease $ID2
want_out '^none$'
ctl detach $ID2 release
want_status 0
ctl attach kiln0 $ID4
want_status 0
want_out '^network=kiln0 tap=ktd4e5f6071829 ip=10.88.0.3 '
got=$(masters kiln0)
[ "$got" = "kta1b2c3d4e5f6 ktc3d4e5f60718 ktd4e5f6071829" ] ||
	fail_because "ports of kiln0: '$got'"
check_end

# 5. Networks of their own ------------------------------------------------------------

check_begin "a network of its own: bridge, addresses, full, in use, removed"
ctl create web 10.89.0.0/30
want_status 0
want_bridge kiln-web 10.89.0.1/30
ctl attach web web-instance-1
want_status 0
want_out '^network=web tap=kt[0-9a-f]{12} ip=10.89.0.2 prefix=30 gateway=10.89.0.1 mac=52:54:00'
WEB_TAP=$(lease_field tap)
got=$(masters kiln-web)
[ "$got" = "$WEB_TAP" ] || fail_because "ports of kiln-web: '$got'"
ctl attach web web-instance-2
want_err "network 'web' has no free address \(10.89.0.0/30: 1 host\)" ENOSPC
ctl attach kiln0 web-instance-1
want_err "instance 'web-instance-1' already has an address on network 'web' \(10.89.0.2\)" EEXIST
ctl rm web
want_err "network 'web' is in use by 1 instance \(remove them first: kiln rm\)" EBUSY
want_bridge kiln-web 10.89.0.1/30
ctl detach web-instance-1 release
want_status 0
ctl rm web
want_status 0
want_no_link kiln-web
want_no_link "$WEB_TAP"
ctl ls
want_no_out '"name":"web"'
check_end

check_begin "a network without a subnet gets the first free 10.89.N.0/24"
ctl create auto1
want_status 0
want_bridge kiln-auto1 10.89.0.1/24
ctl create auto2
want_status 0
want_bridge kiln-auto2 10.89.1.1/24
ctl ls
want_out '"bridge":"kiln-auto1","created":"[^"]*","gateway":"10.89.0.1","instances":0,"name":"auto1","subnet":"10.89.0.0/24"'
want_out '"name":"auto2","subnet":"10.89.1.0/24"'
check_end

check_begin "long network names get distinct bridges of at most 15 characters"
ctl create averyverylongnetworkname 10.90.0.0/24
want_status 0
ctl create averyverylongnetworkname2 10.90.1.0/24
want_status 0
want_bridge kiln-averyveryl 10.90.0.1/24
want_bridge kiln-averyver-1 10.90.1.1/24
ctl rm averyverylongnetworkname
want_status 0
ctl rm averyverylongnetworkname2
want_status 0
want_no_link kiln-averyveryl
want_no_link kiln-averyver-1
check_end

# 6. Bad requests ---------------------------------------------------------------------

check_begin "bad requests are refused with one clear error and change nothing"
ctl ls
cp "$KOUT" "$KILN_TEST_TMP/ls.before"
ip -n "$NS" -br link | sort >"$KILN_TEST_TMP/links.before"
ctl create bad1 10.91.0.1/24
want_err "invalid subnet '10.91.0.1/24': host bits are set \(use 10.91.0.0/24\)" EINVAL
ctl create bad1 10.91.0.0/31
want_err "invalid subnet '10.91.0.0/31': the prefix length must be 8 to 30"
ctl create bad1 10.91.0.0
want_err "invalid subnet '10.91.0.0' \(use ADDRESS/PREFIX, e.g. 10.89.0.0/24\)"
ctl create bad1 banana/24
want_err "invalid subnet 'banana/24': 'banana' is not an IPv4 address"
ctl create bad1 127.0.0.0/8
want_err "invalid subnet '127.0.0.0/8': not usable for a network .*"
ctl create bad1 10.88.128.0/24
want_err "cannot create network 'bad1': subnet 10.88.128.0/24 overlaps network 'kiln0' \(10.88.0.0/16\)" EEXIST
ctl create bad1 10.0.0.0/8
want_err "cannot create network 'bad1': subnet 10.0.0.0/8 overlaps network '.*' \(10.*\)"
ctl create auto1 10.91.0.0/24
want_err "network 'auto1' already exists" EEXIST
ctl create kiln0
want_err "network 'kiln0' already exists"
ctl create Web
want_err "invalid network name 'Web' \(lowercase letters, digits, '-', '_' and '.', starting with a letter or digit, at most 63 characters\)" EINVAL
ctl create -web
want_err "invalid network name '-web' .*"
ctl create "we b"
want_err "invalid network name 'we b' .*"
ctl rm kiln0
want_err "cannot remove the default network 'kiln0'" EPERM
ctl rm nosuch
want_err "no such network 'nosuch' \(see 'kiln network ls'\)" ENOENT
ctl attach nosuch $ID3
want_err "no such network 'nosuch' \(see 'kiln network ls'\)" ENOENT
ctl ls
cmp -s "$KOUT" "$KILN_TEST_TMP/ls.before" ||
	fail_because "the network list changed"
ip -n "$NS" -br link | sort >"$KILN_TEST_TMP/links.after"
cmp -s "$KILN_TEST_TMP/links.before" "$KILN_TEST_TMP/links.after" ||
	fail_because "the interfaces changed: $(diff "$KILN_TEST_TMP/links.before" "$KILN_TEST_TMP/links.after" | tr '\n' ' ')"
check_end

check_begin "a subnet overlapping an address of the host is refused"
# A veth end stands for the host's own LAN interface.
ip -n "$NS" link add kt-lan type veth peer name kt-lan-peer
ip -n "$NS" addr add 192.168.77.5/24 dev kt-lan
ctl create lan 192.168.77.0/24
want_err "cannot create network 'lan': subnet 192.168.77.0/24 overlaps address 192.168.77.5/24 on interface 'kt-lan'"
ctl create lan 192.168.0.0/16
want_err "cannot create network 'lan': subnet 192.168.0.0/16 overlaps address 192.168.77.5/24 on interface 'kt-lan'"
ip -n "$NS" link del kt-lan
ctl create lan 192.168.77.0/24
want_status 0
ctl rm lan
want_status 0
check_end

# 7. Restore ------------------------------------------------------------------------

check_begin "a bridge deleted by hand comes back with its address and taps on restore"
ip -n "$NS" link del kiln0
want_no_link kiln0
ctl restore
want_status 0
want_bridge kiln0 10.88.0.1/16
got=$(masters kiln0)
[ "$got" = "kta1b2c3d4e5f6 ktc3d4e5f60718 ktd4e5f6071829" ] ||
	fail_because "ports of kiln0 after restore: '$got'"
ip -n "$NS" addr flush dev kiln-auto1
ip -n "$NS" link set kiln-auto1 down
ctl restore
want_status 0
want_bridge kiln-auto1 10.89.0.1/24
check_end

check_begin "attach makes a missing bridge again"
ip -n "$NS" link del kiln-auto2
ctl attach auto2 auto2-instance
want_status 0
want_bridge kiln-auto2 10.89.1.1/24
got=$(masters kiln-auto2)
[ "$got" = "$(lease_field tap)" ] || fail_because "ports of kiln-auto2: '$got'"
check_end

# 8. Concurrency ----------------------------------------------------------------------

check_begin "50 instances attached from 8 threads at once get 50 distinct addresses"
ctl attach-many kiln0 many 50 8
want_status 0
n=$(grep -c '^many-' "$KOUT")
[ "$n" -eq 50 ] || fail_because "$n leases, want 50"
for f in ip mac tap; do
	u=$(tr ' ' '\n' <"$KOUT" | grep "^$f=" | sort -u | wc -l)
	[ "$u" -eq 50 ] || fail_because "$u distinct ${f}s, want 50"
done
# Lowest free first: with .2 .3 .4 taken, exactly .5 to .54.
got=$(tr ' ' '\n' <"$KOUT" | sed -n 's/^ip=10.88.0.//p' | sort -n | tr '\n' ' ')
[ "$got" = "$(seq 5 54 | tr '\n' ' ')" ] || fail_because "addresses: $got"
n=$(masters kiln0 | wc -w)
[ "$n" -eq 53 ] || fail_because "$n ports on kiln0, want 53"
for i in $(seq 0 49); do
	ip netns exec "$NS" "$CTL" "$DB" detach "many-$i" release ||
		fail_because "detach many-$i failed"
done
n=$(masters kiln0 | wc -w)
[ "$n" -eq 3 ] || fail_because "$n ports on kiln0 after release, want 3"
check_end
