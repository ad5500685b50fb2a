#!/bin/sh
# kiln-vmm boots real programs.  Every guest program (static, dynamic,
# static-pie), Debian's sqlite3 and the exit-status, crash and panic
# cases are packed with `kiln pack` and booted on kiln-vmm: directly when
# this machine has /dev/kvm, otherwise inside scripts/nested-kvm.sh, a
# Linux guest under QEMU TCG whose emulated AMD SVM gives it a working
# /dev/kvm.  One nested boot runs every case (the Linux guest takes 6-20 s
# to boot; each kiln-vmm run inside it well under a second).  The nested
# path needs Debian's kernel and busybox packages, which the harness
# fetches with apt-get download into build/nested/ on its first run.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

W=$KILN_TEST_TMP/vmm
mkdir -p "$W/cases"
VMM=$KILN_ROOT/build/kiln-vmm.static
KERNEL=$KILN_ROOT/build/kiln.elf
CASES=$W/cases.list # read inside the VM host too; name|memory MiB|extra kernel args|expected status|regex

# add_case NAME MEM KARGS STATUS REGEX PACK-ARGS...: packs one case.
add_case() {
	name=$1 mem=$2 kargs=$3 want=$4 re=$5
	shift 5
	if "$KILN" pack -o "$W/cases/$name.cpio" "$@" >"$W/pack.err" 2>&1; then
		echo "$name|$mem|$kargs|$want|$re" >>"$CASES"
	else
		test_fail "$SCENARIO: $name" "kiln pack failed: $(head -n 1 "$W/pack.err")"
	fi
}


: >"$CASES"
if [ ! -x "$KILN" ] || [ ! -f "$VMM" ] || [ ! -f "$KERNEL" ]; then
	test_fail "$SCENARIO: build" "build/kiln, build/kiln-vmm.static or build/kiln.elf missing (run make)"
	exit 0
fi

add_case hello-static 64 "" 0 '^hello from kiln$' examples/hello
add_case hello-4MiB 4 "" 0 '^hello from kiln$' examples/hello
add_case echo-dynamic 64 "" 0 '^hi there$' /bin/echo hi there
add_case exit-42 64 "" 42 'exiting with 42' "$GUEST/static/exit_code" 42
add_case exit-255 64 "" 255 'exiting with 255' "$GUEST/dynamic/exit_code" 255
add_case segv 64 "" 139 'segmentation fault at address 0xdead0' "$GUEST/static/segv"
add_case panic 64 kiln.test=panic 120 'kernel panic' examples/hello
add_case sysfuzz 64 "" 0 '^sysfuzz: survived [0-9]+ calls$' "$GUEST/static/sysfuzz"
add_case enosys-log 64 "" 0 "syscall '.*' \([0-9]+\) not implemented" "$GUEST/static/enosys"
# Threads and signals (issue 5): a default action's status, and Go's
# runtime (threads, futexes, SIGURG preemption, SIGSEGV as a panic).
add_case sigpipe-default 64 "" 141 'killed by signal 13' "$GUEST/static/sigdefault" pipe
add_case sigterm-thread 64 "" 143 'killed by signal 15' "$GUEST/dynamic/sigdefault" thread
add_case go-goroutines 128 "" 0 '^guest go-goroutines: [0-9]+ passed, 0 failed$' build/tests/go/goroutines
add_case go-nil 128 "" 2 'signal SIGSEGV: segmentation violation code=0x1 addr=0x0' build/tests/go/goroutines nil
# The vDSO under kvmclock: Go finds it; kiln.novdso really turns it off.
add_case go-clock 128 "" 0 '^guest go-clock: [0-9]+ passed, 0 failed$' build/tests/go/clock
add_case vdso-off 64 kiln.novdso 0 '^guest vdso: [0-9]+ passed, 0 failed$' "$GUEST/dynamic/vdso" novdso
# Graceful stop (abi.h): kill -TERM to kiln-vmm once the guest is ready
# (term-*), or twice a second apart (term2-*).
add_case term-handled 64 "" 42 '^sigdefault: got SIGTERM from pid 0$' "$GUEST/static/sigdefault" wait-term
add_case term-default 64 "" 143 'stopped by SIGTERM' "$GUEST/static/sigdefault" wait-default
add_case term2-ignored 64 "" 143 'stopped by SIGTERM' "$GUEST/dynamic/sigdefault" wait-ignore
# Debian's sqlite3 (tests/e2e/app_sqlite.sh has the QEMU side).
add_case sqlite3-rows 64 "" 0 '^2$' /usr/bin/sqlite3 /tmp/db \
	'create table t(x); insert into t values(1),(2); select * from t;'
add_case sqlite3-disk 64 "" 0 '^last\|wal row$' \
	--file tests/apps/sqlite/disk.sql:/data/disk.sql \
	/usr/bin/sqlite3 /tmp/app.db '.read /data/disk.sql'
for prog in $(guest_names); do
	opts=$(guest_marker "$prog" kiln-run-opts)
	args=$(guest_marker "$prog" kiln-run-args)
	for link in static dynamic static-pie; do
		if [ ! -x "$GUEST/$link/$prog" ]; then
			test_fail "$SCENARIO: $prog-$link on kiln-vmm" "$GUEST/$link/$prog not built (run make)"
			continue
		fi
		set -f
		# shellcheck disable=SC2086 # the markers are words
		add_case "$prog-$link" 64 "" 0 "^guest $prog: [0-9]+ passed, 0 failed\$" \
			$opts "$GUEST/$link/$prog" $args
		set +f
	done
done

# The script that runs inside the VM host (nested guest or this machine):
# one kiln-vmm per case, status and output framed by markers.
cat >"$W/run-cases.sh" <<'EOS'
#!/bin/sh
d=$(dirname "$0")
while IFS='|' read -r name mem kargs want re; do
	# Emptied here, not by the child's redirection: the term-* wait below
	# must never read the previous case's "ready" line and signal a
	# kiln-vmm that has not yet installed its handlers.
	: >"$d/out"
	"$d/kiln-vmm" --kernel "$d/kiln.elf" --initrd "$d/cases/$name.cpio" \
		--memory "$mem" --cmdline "console=ttyS0 $kargs" --timeout 60 \
		>>"$d/out" 2>&1 </dev/null &
	pid=$!
	case $name in
	term-* | term2-*)
		i=0
		while [ $i -lt 50 ] && ! grep -q 'ready for SIGTERM' "$d/out"; do
			sleep 1
			i=$((i + 1))
		done
		kill -TERM $pid
		case $name in term2-*)
			sleep 1
			kill -TERM $pid
			;;
		esac
		;;
	esac
	wait $pid
	st=$?
	echo "VMMCASE-BEGIN $name"
	cat "$d/out"
	echo "VMMCASE-END $name $st"
done <"$d/cases.list"
EOS
cp "$VMM" "$W/kiln-vmm"
cp "$KERNEL" "$W/kiln.elf"

LOG=$(log_path "$SCENARIO/run")
mkdir -p "$(dirname "$LOG")"
if have_kvm; then
	where="on this machine's /dev/kvm"
	run_limited 900 "$W/all.out" = sh "$W/run-cases.sh"
else
	where="in nested KVM under QEMU TCG"
	run_limited 1500 "$W/all.out" = bash scripts/nested-kvm.sh --timeout 1200 \
		--add "$W:/k" -- sh /k/run-cases.sh
fi
tr -d '\r' <"$W/all.out" >"$LOG"
echo "kiln-vmm cases ran $where (status $RUN_STATUS)" >>"$LOG"

while IFS='|' read -r name mem kargs want re; do
	CHECK="$SCENARIO: $name on kiln-vmm"
	end=$(grep -a "^VMMCASE-END $name " "$LOG" | tail -n 1)
	if [ -z "$end" ]; then
		test_fail "$CHECK" "no result ($where, harness status $RUN_STATUS)" "$LOG"
		continue
	fi
	st=${end##* }
	sed -n "/^VMMCASE-BEGIN $name\$/,/^VMMCASE-END $name /p" "$LOG" >"$W/case.out"
	if [ "$st" != "$want" ]; then
		test_fail "$CHECK" "status $st, want $want" "$W/case.out"
	elif ! grep -a -q -E "$re" "$W/case.out"; then
		test_fail "$CHECK" "output does not match /$re/" "$W/case.out"
	else
		test_pass "$CHECK"
	fi
done <"$CASES"
