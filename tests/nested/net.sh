#!/bin/bash
# kiln-vmm's virtio-net device on real KVM, on a machine without /dev/kvm:
# ONE nested-KVM guest (scripts/nested-kvm.sh) runs every case in
# tests/nested/net_guest.sh.  That Linux guest loads tun and the bridge
# modules (taken from the same Debian kernel package the harness already
# fetched), puts a tap on a bridge holding 10.0.2.1/24, and runs kiln-vmm
# --net on the tap with kiln's kernel:
#   - ping (busybox) to a sleeping program: first reply, the --mac address,
#     a burst, 4000-byte echoes; SIGTERM; the errors before boot (a missing
#     tap, a tap in use); both IOAPIC trigger modes with
#     tests/nested/netfx.c; a guest that never drives the device;
#   - the same socket checks tests/e2e/net_tcp.sh makes on QEMU: httpd
#     serving a page and a 10 MiB random file (sha256), a 404, 100
#     concurrent keep-alive clients, clients that give up mid-transfer;
#     UDP echo from 1 to 65507 bytes; net_client as a client of
#     tests/net/servers.py (names, bulk, refused, reset, timeouts).
# The clients and servers are tests/net/*.py, run by Debian's python3,
# which is copied into the guest with only the modules they import
# (compiled), and busybox sha256sum.  Everything lives in the
# throw-away nested guest; nothing touches the host's network.
# Prints the guest's "case NAME ok|FAIL (why)" lines, net_client's output
# as "client: ..." lines, then "N passed, M failed".  tests/e2e/vmm_net.sh
# runs it as part of `make test`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
W=$ROOT/build/nested/net
PY=/usr/bin/python3
rm -rf "$W"
mkdir -p "$W/in/srv" "$W/in/py" "$W/pyroot"

for f in build/kiln-vmm.static build/kiln.elf build/kiln examples/httpd \
	build/tests/net/udp_echo build/tests/net/net_client; do
	[ -e "$f" ] || { echo "net: $f missing (run make)" >&2; exit 2; }
done
[ -x "$PY" ] || { echo "net: $PY missing (run scripts/deps.sh)" >&2; exit 2; }
tests/nested/net_modules.sh "$W/in/mod"

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
cp tests/nested/net_guest.sh "$W/in/guest.sh"
cp tests/nested/guest_lib.sh "$W/in/guest_lib.sh"

# The guests' rootfs, as `kiln run` would pack them (net_tcp.sh's files).
build/kiln pack -o "$W/in/sleep.cpio" /bin/sleep 60
cat >"$W/in/srv/index.html" <<'PAGE'
<!DOCTYPE html>
<html><head><title>kiln</title></head>
<body><h1>served by a kiln unikernel</h1></body></html>
PAGE
head -c 10485760 /dev/urandom >"$W/big.bin"
sha256sum <"$W/big.bin" | cut -d' ' -f1 >"$W/in/srv/big.sha256"
build/kiln pack -o "$W/in/httpd.cpio" \
	--file "$W/in/srv/index.html:/srv/index.html" \
	--file "$W/big.bin:/srv/big.bin" examples/httpd -r /srv
build/kiln pack -o "$W/in/udp_echo.cpio" build/tests/net/udp_echo 7777
printf 'hosts: files dns\n' >"$W/nsswitch.conf"
build/kiln pack -o "$W/in/net_client.cpio" \
	--file "$W/nsswitch.conf:/etc/nsswitch.conf" \
	build/tests/net/net_client server.test 10.0.2.1 9000 kiln-guest \
	10.0.2.15 10.0.99.1
cp tests/net/*.py "$W/in/py/"

# python3 for the clients and servers: the interpreter, its libraries, and
# only the standard modules the scripts import, compiled and without their
# sources (python loads a lone .pyc in the module's place), so the guest
# compiles nothing under emulation.
set -- --add "$W/in:/net" --add "$PY:/usr/bin/python3"
for l in $(ldd "$PY" | grep -o '/[^ ]*' | sort -u); do
	set -- "$@" --add "$l:$l"
done
"$PY" -S -c '
import sys, http.client, os, socket, struct, threading, time, urllib.parse
import encodings.ascii, encodings.idna, encodings.latin_1
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and f.endswith(".py"):
        print(f)' | while read -r f; do
	mkdir -p "$W/pyroot$(dirname "$f")"
	cp "$f" "$W/pyroot$f"
done
libdir=$("$PY" -S -c 'import os; print(os.path.dirname(os.__file__))')
"$PY" -m compileall -q -b "$W/pyroot$libdir" >/dev/null
find "$W/pyroot" -name '*.py' -delete
# Where python looks for extension modules; none are needed, but without
# the directory it warns on every start.
mkdir -p "$W/pyroot$libdir/lib-dynload"
set -- "$@" --add "$W/pyroot$libdir:$libdir"

start=$(date +%s)
set +e
scripts/nested-kvm.sh --mem 1024 --timeout 900 "$@" -- sh /net/guest.sh |
	tee "$W/out"
rc=${PIPESTATUS[0]}
set -e
echo "net: nested guest exit $rc after $(($(date +%s) - start))s" >&2
want=$(sed -n '/^CASES="/,/"$/p' tests/nested/net_guest.sh | tr -d '"' |
	sed 's/^CASES=//' | wc -w)
passed=$(grep -c '^case .* ok$' "$W/out" || true)
failed=$(grep -c '^case .* FAIL' "$W/out" || true)
[ "$passed" = "$want" ] || failed=$((want - passed))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
