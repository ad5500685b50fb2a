#!/bin/bash
# Smoke test for real KVM on a machine without /dev/kvm: boots one
# nested-KVM guest (scripts/nested-kvm.sh, QEMU TCG with emulated AMD SVM)
# and inside it runs (1) kvmtest, a minimal KVM program checking an OUT and
# a HLT exit, and (2) if build/kiln-vmm.static and build/kiln.elf exist,
# kiln-vmm booting kiln.elf with a rootfs holding exit7, checking its output
# and exit status 7.  One boot for both, since each boot costs ~6-20 s.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
W=$ROOT/build/nested/smoke
rm -rf "$W"
mkdir -p "$W/rootfs/.kiln"

# glibc static: musl's headers lack <linux/kvm.h>.
cc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-o "$W/kvmtest" tests/nested/kvmtest.c

adds=(--add "$W/kvmtest:/bin/kvmtest" --add "$W/guest.sh:/guest.sh")
want=1
if [ -x build/kiln-vmm.static ] && [ -f build/kiln.elf ]; then
	musl-gcc -static -O2 -std=c11 -Wall -Wextra -Werror \
		-o "$W/rootfs/exit7" tests/nested/exit7.c
	printf 'exe /exit7\narg exit7\narg nested\narg ok\n' >"$W/rootfs/.kiln/config"
	(cd "$W/rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$W/rootfs.cpio"
	adds+=(--add build/kiln-vmm.static:/bin/kiln-vmm --add build/kiln.elf:/kiln.elf
		--add "$W/rootfs.cpio:/rootfs.cpio")
	want=2
else
	echo "smoke: build/kiln-vmm.static or build/kiln.elf missing, kiln-vmm case skipped" >&2
fi

# Runs inside the guest; every case prints one "case NAME ok|FAIL" line.
cat >"$W/guest.sh" <<'GUEST'
if kvmtest; then echo "case kvmtest ok"; else echo "case kvmtest FAIL"; fi
if [ -x /bin/kiln-vmm ]; then
	kiln-vmm --kernel /kiln.elf --initrd /rootfs.cpio --memory 64 \
		--timeout 120 >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	if [ $rc = 7 ] && grep -q '^exit7: nested ok$' /tmp/out; then
		echo "case kiln-vmm ok"
	else
		echo "case kiln-vmm FAIL (exit $rc)"
	fi
fi
GUEST

start=$(date +%s)
set +e
scripts/nested-kvm.sh --timeout 600 "${adds[@]}" -- sh /guest.sh | tee "$W/out"
rc=${PIPESTATUS[0]}
set -e
echo "smoke: guest exit $rc after $(($(date +%s) - start))s" >&2

passed=$(grep -c '^case .* ok$' "$W/out" || true)
failed=$((want - passed))
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
