#!/bin/sh
# kiln run's network options (issue 3): bad values are refused before
# anything boots, each with one line and status 125, and kiln still works
# afterwards.  The tap cases run inside a network namespace this script
# creates (and removes, whatever happens); no traffic is sent.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

HELLO=$GUEST/static/hello

# bad_net NAME REGEX ARGS...: kiln run ARGS must fail with 125 and one line.
bad_net() {
	name=$1 re=$2
	shift 2
	check_begin "$name"
	krun_limit 60 "$@" "$HELLO"
	want_status 125
	want_one_error "$re"
	want_no_out '^hello from kiln$'
	check_end
}

bad_net "--ip without --net" "need --net TAP" --ip 10.0.0.2/24
bad_net "--net without --ip" "needs --ip" --net tap0
bad_net "address without a prefix" "invalid address '10.0.0.2'" --net tap0 --ip 10.0.0.2
bad_net "prefix 33" "invalid prefix length" --net tap0 --ip 10.0.0.2/33
bad_net "prefix 0" "invalid prefix length" --net tap0 --ip 10.0.0.2/0
bad_net "not an address" "invalid address" --net tap0 --ip 10.0.0.300/24
bad_net "the network address" "network address" --net tap0 --ip 10.0.0.0/24
bad_net "the broadcast address" "broadcast address" --net tap0 --ip 10.0.0.255/24
bad_net "a loopback address" "cannot be an instance's address" --net tap0 --ip 127.0.0.2/8
bad_net "gateway outside the subnet" "outside the instance's subnet" \
	--net tap0 --ip 10.0.0.2/24 --gw 10.0.1.1
bad_net "gateway is the instance" "own address" --net tap0 --ip 10.0.0.2/24 --gw 10.0.0.2
bad_net "bad DNS server" "invalid DNS server" --net tap0 --ip 10.0.0.2/24 --dns x
bad_net "multicast MAC" "invalid MAC" --net tap0 --ip 10.0.0.2/24 --mac 01:00:5e:00:00:01
bad_net "bad hostname" "invalid hostname" --hostname 'a b'
bad_net "tap name too long" "invalid tap name" --net abcdefghijklmnopq --ip 10.0.0.2/24

check_begin "--net options are refused by kiln pack"
echo "\$ kiln pack -o ... --net tap0 --ip 10.0.0.2/24" >>"$CHECK_LOG"
"$KILN" pack -o "$KILN_TEST_TMP/x.cpio" --net tap0 --ip 10.0.0.2/24 "$HELLO" \
	>"$KOUT" 2>"$KERR"
KST=$?
want_status 125
want_one_error "'--net' is for 'kiln run'"
check_end

check_begin "--hostname reaches uname in the guest"
krun --hostname web-1 /bin/uname -n
want_status 0
want_stdout_exact "web-1"
check_end

# Taps live in a namespace of our own.
NS=kilntest-opts-$$
cleanup_ns() { ip netns del "$NS" 2>/dev/null; }
trap 'cleanup_ns; lib_exit' EXIT
if ! ip netns add "$NS" 2>/dev/null; then
	test_fail "$SCENARIO: network namespace" "cannot create a network namespace (need root)"
	exit 0
fi
ip -n "$NS" tuntap add dev ktap0 mode tap
ip -n "$NS" link add kbr0 type bridge

nsrun() {
	name=$1 re=$2
	shift 2
	check_begin "$name"
	echo "\$ ip netns exec $NS kiln run $*" >>"$CHECK_LOG"
	run_limited 60 "$KOUT" "$KERR" ip netns exec "$NS" "$KILN" run "$@" "$HELLO"
	KST=$RUN_STATUS
	want_status 125
	# The QEMU fallback notice may precede the error; count only kiln's
	# error lines.
	grep -v -F "$KVM_NOTICE" "$KERR" >"$KERR.f"
	mv "$KERR.f" "$KERR"
	want_one_error "$re"
	check_end
}

nsrun "a missing tap" "tap device 'nosuch0' does not exist" --net nosuch0 --ip 10.0.0.2/24
nsrun "an interface that is not a tap" "'kbr0' is not a tap device" --net kbr0 --ip 10.0.0.2/24

# Hold ktap0 open from another process: kiln must see it is in use.
ip netns exec "$NS" python3 - "$NS" <<'EOPY' &
import fcntl, os, struct, sys, time
ns = sys.argv[1]
# Attach to the tap (inside the namespace) and hold it for a while.
tun = os.open("/dev/net/tun", os.O_RDWR)
ifr = struct.pack("16sH", b"ktap0", 0x0002 | 0x1000)  # IFF_TAP | IFF_NO_PI
fcntl.ioctl(tun, 0x400454ca, ifr)  # TUNSETIFF
open(f"/tmp/kiln-tap-held-{ns}", "w").close()
time.sleep(30)
EOPY
HOLDER=$!
i=0
while [ ! -e "/tmp/kiln-tap-held-$NS" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
nsrun "a tap already in use" "'ktap0' is already in use" --net ktap0 --ip 10.0.0.2/24
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
rm -f "/tmp/kiln-tap-held-$NS"

check_begin "kiln still runs after the refusals"
want_hello_runs
check_end
