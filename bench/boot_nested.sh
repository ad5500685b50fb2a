#!/bin/sh
# Nested boot benchmark: kiln-vmm vs QEMU microvm (-accel kvm) vs a plain
# process, all inside ONE boot of scripts/nested-kvm.sh's Linux guest (QEMU
# TCG emulating AMD SVM, so the guest has a working /dev/kvm even though
# this machine has none).  Same kernel (build/kiln.elf), same rootfs (from
# `kiln pack`), same guest memory for both monitors; static hello (musl) and
# dynamic hello (glibc).  bench/nested/timeit (static musl, built here)
# times exec to the first "hello from kiln" byte and to exit in the guest;
# bench/nested/report.py turns the raw numbers into
# docs/bench-boot-nested.md and docs/bench-boot-nested.png.
#
# The absolute numbers are KVM running inside software emulation: only the
# ratios between configurations mean anything.
#
# Usage: bench/boot_nested.sh [--runs N] [--budget SECONDS] [--timeout SECONDS]
#                             [--report-only]
#   --runs N          timed rounds after the warm-up round (default 30)
#   --budget SECONDS  stop starting new rounds after this much guest time
#                     (default 2400); the report says when that happened
#   --timeout SECONDS kill the nested guest after this long (default 3600)
#   --report-only     regenerate the docs from the last run's raw log
# Needs a build (make) and the nested harness's first-run download (see
# docs/nested-kvm.md).  Raw log: build/bench-nested/nested.log.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=$ROOT/build/bench-nested
LOG=$W/nested.log

runs=30
budget=2400
timeout_s=3600
report_only=0
guest_mib=64     # both monitors' guest RAM, as in bench/boot.py
nested_mib=2048  # the Linux guest's RAM: it holds QEMU, its libraries and both rootfs

nested_die() {
	echo "bench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--budget) budget=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) nested_die "unknown option '$1' (usage: bench/boot_nested.sh [--runs N] [--budget S] [--timeout S] [--report-only])" ;;
	esac
done

# Debian's python3 (matplotlib comes from apt), as bench/boot.sh does.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
report() {
	"$PY" bench/nested/report.py --log "$LOG" \
		--md docs/bench-boot-nested.md --png docs/bench-boot-nested.png
}
if [ $report_only = 1 ]; then
	[ -f "$LOG" ] || nested_die "no raw log at '$LOG' (run bench/boot_nested.sh without --report-only first)"
	report
	exit
fi

for f in build/kiln build/kiln-vmm build/kiln-vmm.static build/kiln.elf examples/hello; do
	[ -e "$f" ] || nested_die "'$f' missing: run make first"
done
command -v musl-gcc >/dev/null || nested_die "musl-gcc not found (run scripts/deps.sh)"
QEMU=$(command -v qemu-system-x86_64) || nested_die "qemu-system-x86_64 not found (run scripts/deps.sh)"

# The dynamic program: the tests' glibc hello if built, else Debian's
# /bin/echo printing the same line.
if [ -x build/tests/guest/dynamic/hello ]; then
	dyn=build/tests/guest/dynamic/hello dyn_args="" dyn_name="tests' dynamic hello (glibc)"
else
	dyn=/bin/echo dyn_args="hello from kiln" dyn_name="/bin/echo hello from kiln (glibc)"
fi

rm -rf "$W/stage"
K=$W/stage/k
mkdir -p "$K"
musl-gcc -static -std=c11 -O2 -Wall -Wextra -Werror -o "$K/timeit" bench/nested/timeit.c
cp bench/nested/guest.sh "$K/guest.sh"
cp build/kiln-vmm build/kiln-vmm.static build/kiln.elf "$K/"
cp examples/hello "$K/static.bin"
cp "$dyn" "$K/dynamic.bin"
build/kiln pack -o "$K/static.cpio" examples/hello
# shellcheck disable=SC2086 # dyn_args are words
build/kiln pack -o "$K/dynamic.cpio" "$dyn" $dyn_args
{
	echo "RUNS=$runs"
	echo "MEM=$guest_mib"
	echo "BUDGET=$budget"
	echo "PROGS='static dynamic'"
	echo "static_CMD='/k/static.bin'"
	echo "dynamic_CMD='/k/dynamic.bin $dyn_args'"
} >"$K/config.sh"

# The guest is busybox only: QEMU, every library that it, kiln-vmm and the
# dynamic hello load (at their host paths), and the firmware QEMU opens for
# microvm.  The data files are what strace sees QEMU open on this host (a
# TCG run of the same command), plus the two that microvm always needs.
set -- --add "$K:/k" --add "$QEMU:/usr/bin/qemu-system-x86_64"
libs=$(for b in "$QEMU" build/kiln-vmm "$dyn"; do ldd "$b"; done |
	grep -o '/[^ ]*' | sort -u)
for l in $libs; do
	set -- "$@" --add "$l:$l"
done
data="/usr/share/qemu/qboot.rom /usr/share/qemu/bios-microvm.bin"
if command -v strace >/dev/null; then
	strace -f -qq -e trace=open,openat,access -o "$W/qemu.strace" \
		"$QEMU" -M microvm,acpi=off,x-option-roms=off,rtc=on -accel tcg \
		-m "$guest_mib" -nodefaults -no-user-config -display none -no-reboot \
		-kernel build/kiln.elf -initrd "$K/static.cpio" -append console=ttyS0 \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		</dev/null >/dev/null 2>&1 || true
	data="$data $(grep -v ENOENT "$W/qemu.strace" | grep -o '"/usr/[^"]*share/[^"]*"' |
		tr -d '"' | xargs -r realpath -s | sort -u | tr '\n' ' ')"
fi
for d in $(echo "$data" | tr ' ' '\n' | sort -u); do
	[ -f "$d" ] && set -- "$@" --add "$d:$d"
done

echo "bench: nested boot benchmark, $runs rounds (the Linux guest runs under TCG: this takes a while)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
rm -f "$W/status"
{
	# `|| st=$?`: under set -e a failing harness would end this group
	# before its status is written, and every failure would read as 125.
	st=0
	bash scripts/nested-kvm.sh --mem "$nested_mib" --smp 1 --timeout "$timeout_s" \
		"$@" -- sh /k/guest.sh 2>&1 || st=$?
	echo "$st" >"$W/status"
} | tee "$LOG.new" | grep --line-buffered -E '^(P|F) ' | sed -u 's/^/bench:   /'
status=$(cat "$W/status" 2>/dev/null || echo 125)
{
	echo "H nested_status $status"
	echo "H nested_wall_s $(($(date +%s) - t0))"
	echo "H loadavg_before $load_before"
	echo "H loadavg_after $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "H nested_mib $nested_mib"
	echo "H guest_mib $guest_mib"
	echo "H runs $runs"
	echo "H dynamic_name $dyn_name"
	for f in build/kiln.elf build/kiln-vmm build/kiln-vmm.static; do
		echo "H build $f $(wc -c <"$f") bytes, built $(date -u -r "$f" '+%Y-%m-%d %H:%M UTC')"
	done
} >>"$LOG.new"
if ! grep -q '^T ' "$LOG.new"; then
	tail -n 20 "$LOG.new" >&2
	nested_die "the nested guest produced no timings (status $status; raw output in '$LOG.new')"
fi
mv "$LOG.new" "$LOG"
report
