#!/bin/sh
# Tests of `kiln run`'s hypervisor plumbing on QEMU, with stand-in kernels
# (cli/tests/pvh_fixture.S) instead of kiln.elf, so they check kiln alone:
# exit statuses from the COM2 record (bit 7 included) and from
# isa-debug-exit, a guest reset, live console output, 100 KB of output,
# --timeout, SIGINT/SIGTERM (to kiln and to its process group, as Ctrl-C
# does), no QEMU or temp file left behind, the /dev/kvm fallback notice,
# QEMU failures, and a redirected stdout that is appended to, not
# truncated.  Installed by cli/cli.mk as build/tests/unit/cli_run; prints
# "ok N - ..." / "not ok N - ..." and exits 0 iff all pass.
set -u
ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
KILN=${KILN:-$ROOT/build/kiln}
FX=$ROOT/build/tests/cli
NOTICE='kiln: /dev/kvm not available, using QEMU without KVM (slow)'

T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# kiln's own temp files go here; it must stay empty.
mkdir "$T/tmp"
export TMPDIR="$T/tmp"

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}
check() { # check DESCRIPTION COMMAND...: ok iff COMMAND succeeds
	d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d" "$(cat "$T/err" 2>/dev/null)"; fi
}

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# krun FIXTURE ARGS...: kiln run on QEMU with a stand-in kernel; output in
# $T/out and $T/err, status in $st.
krun() {
	fx=$1
	shift
	timeout -k 5 60 "$KILN" run --hypervisor qemu --kernel "$FX/$fx.elf" \
		"$@" /bin/true >"$T/out" 2>"$T/err" </dev/null
	st=$?
}

out_is() { printf '%s' "$1" | cmp -s - "$T/out"; }
lacks() { ! grep -q -x -F "$1" "$2"; } # lacks LINE FILE

for code in 0 1 42 200 255; do
	krun "fx-exit-$code"
	check "status $code from the COM2 record" [ "$st" -eq "$code" ]
done
check "console output arrives on stdout" out_is 'hi
'
for code in 0 42; do
	krun "fx-norecord-$code"
	check "status $code from isa-debug-exit alone" [ "$st" -eq "$code" ]
done

krun fx-triple
check "guest reset: status 121" [ "$st" -eq 121 ]
check "guest reset: one message" grep -q 'reset without reporting' "$T/err"

krun fx-bulk
awk 'BEGIN { for (i = 0; i < 2000; i++)
	print "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM" }' >"$T/bulk"
check "100000 bytes of console output arrive whole" cmp -s "$T/bulk" "$T/out"

start=$(date +%s)
krun fx-spin --timeout 2
check "--timeout 2: status 124" [ "$st" -eq 124 ]
check "--timeout 2: says so" grep -q 'timeout 2 s' "$T/err"
check "--timeout 2: stopped within 30 s" [ $(($(date +%s) - start)) -lt 30 ]

# A private copy of the spinning kernel, so that pgrep finds our QEMU only.
cp "$FX/fx-spin.elf" "$T/spin-$$.elf"

# spin_until_hi: starts kiln on the spinning kernel in its own session
# (so the group can be signalled like a terminal's Ctrl-C), waits until
# "hi" is on its stdout while it still runs; $pid is kiln (= the group).
spin_start() {
	# A background job of a script starts with SIGINT ignored (and kiln
	# respects that); give it the default, as a terminal would.
	setsid env --default-signal=INT "$KILN" run --hypervisor qemu \
		--kernel "$T/spin-$$.elf" /bin/true >"$T/out" 2>"$T/err" \
		</dev/null &
	pid=$!
	i=0
	# Up to 90 s: a loaded 2-core machine running TCG guests in parallel
	# can be slow to start QEMU; a pass takes well under a second.
	while [ $i -lt 900 ] && ! grep -q '^hi$' "$T/out" 2>/dev/null &&
		kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^hi$' "$T/out" && kill -0 "$pid" 2>/dev/null
}

# A start that fails is reported (as # lines in the log) and tried once
# more: these checks are about signals, and a machine under heavy load
# has been seen to lose a start.
spin_until_hi() {
	for attempt in 1 2; do
		spin_start && return 0
		echo "# start attempt $attempt failed after $i polls;" \
			"kiln alive: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
		echo "# stdout: $(head -c 200 "$T/out" 2>/dev/null)"
		echo "# stderr: $(head -c 400 "$T/err" 2>/dev/null)"
		kill -s KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 1
}

# no_qemu_left: the spinning QEMU is gone within 15 s (at once when idle;
# SIGKILL and reaping can lag on a loaded machine).
no_qemu_left() {
	i=0
	while pgrep -f "spin-$$.elf" >/dev/null && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	! pgrep -f "spin-$$.elf" >/dev/null
}

if spin_until_hi; then
	ok "console output is live (seen while the VM runs)"
	kill -INT "$pid"
	wait "$pid"
	st=$?
	check "SIGINT to kiln: status 130" [ "$st" -eq 130 ]
	check "SIGINT to kiln: QEMU is gone" no_qemu_left
else
	notok "console output is live (seen while the VM runs)"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
fi

if spin_until_hi; then
	kill -s INT -- "-$pid" # the whole process group, as Ctrl-C
	wait "$pid"
	st=$?
	check "Ctrl-C (SIGINT to the group): status 130" [ "$st" -eq 130 ]
	check "Ctrl-C: QEMU is gone" no_qemu_left
else
	notok "Ctrl-C (SIGINT to the group): VM did not start"
fi

if spin_until_hi; then
	kill -TERM "$pid"
	wait "$pid"
	st=$?
	check "SIGTERM to kiln: status 143" [ "$st" -eq 143 ]
	check "SIGTERM to kiln: QEMU is gone" no_qemu_left
else
	notok "SIGTERM to kiln: VM did not start"
fi

if spin_until_hi; then
	kill -KILL "$pid"
	wait "$pid"
	check "SIGKILL to kiln: QEMU dies with it" no_qemu_left
else
	notok "SIGKILL to kiln: VM did not start"
fi

check "no temp file left in \$TMPDIR" [ -z "$(ls -A "$TMPDIR")" ]

# An ignored SIGINT (a script's background job, where Ctrl-C is meant for
# the foreground) stays ignored by kiln and QEMU; SIGTERM still stops it.
"$KILN" run --hypervisor qemu --kernel "$T/spin-$$.elf" /bin/true \
	>"$T/out" 2>"$T/err" </dev/null &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^hi$' "$T/out"; do
	sleep 0.1
	i=$((i + 1))
done
kill -s INT "$pid"
sleep 1
check "inherited SIG_IGN for SIGINT is kept" kill -0 "$pid"
kill -s TERM "$pid"
wait "$pid"
st=$?
check "... and SIGTERM then stops it: 143" [ "$st" -eq 143 ]
check "... with QEMU gone" no_qemu_left

# The default hypervisor and its notice.
timeout -k 5 60 "$KILN" run --kernel "$FX/fx-exit-42.elf" /bin/true \
	>"$T/out" 2>"$T/err" </dev/null
st=$?
if have_kvm; then
	check "with /dev/kvm: no QEMU notice" lacks "$NOTICE" "$T/err"
else
	check "no /dev/kvm: default falls back to QEMU, status 42" [ "$st" -eq 42 ]
	check "no /dev/kvm: exactly one notice line on stderr" \
		[ "$(grep -c -x -F "$NOTICE" "$T/err")" -eq 1 ]
	check "no /dev/kvm: nothing else on stderr" \
		[ "$(wc -l <"$T/err")" -eq 1 ]
	krun fx-exit-42
	check "--hypervisor qemu: no notice" lacks "$NOTICE" "$T/err"
	timeout 60 "$KILN" run --hypervisor kiln --kernel "$FX/fx-exit-42.elf" \
		/bin/true >"$T/out" 2>"$T/err" </dev/null
	st=$?
	check "--hypervisor kiln without /dev/kvm: status 125" [ "$st" -eq 125 ]
	check "--hypervisor kiln without /dev/kvm: names the fix" \
		grep -q -e '--hypervisor qemu' "$T/err"
fi

# The kiln-vmm path, with a stand-in monitor (KILN_VMM) and KILN_KVM=1
# claiming KVM: the arguments, the rootfs readable through /dev/fd/N, the
# status passed through, SIGTERM forwarded.
cat >"$T/fakevmm" <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"$T/vmm-args"
while [ \$# -gt 0 ]; do
	case \$1 in --initrd) cpio -it --quiet <"\$2" >"$T/vmm-list" ;; esac
	shift
done
trap 'echo got-term >"$T/vmm-term"; exit 143' TERM
echo "vmm says hi"
if [ -e "$T/vmm-hang" ]; then
	while :; do sleep 0.1; done
fi
exit 77
EOS
chmod +x "$T/fakevmm"
KILN_KVM=1 KILN_VMM=$T/fakevmm timeout 60 "$KILN" run -m 96 --timeout 7 \
	--kernel "$FX/fx-exit-0.elf" --kernel-arg kiln.debug /bin/echo hi \
	>"$T/out" 2>"$T/err" </dev/null
st=$?
check "kiln-vmm: its status is kiln's (77)" [ "$st" -eq 77 ]
check "kiln-vmm: its output reaches stdout" grep -q -x 'vmm says hi' "$T/out"
printf '%s\n' --kernel "$FX/fx-exit-0.elf" --initrd /dev/fd/N --cmdline \
	'console=ttyS0 kiln.debug' --memory 96 --timeout 7 >"$T/want-args"
sed 's|^/dev/fd/[0-9][0-9]*$|/dev/fd/N|' "$T/vmm-args" >"$T/got-args"
check "kiln-vmm: --kernel K --initrd /dev/fd/N --cmdline ... --memory --timeout" \
	cmp -s "$T/want-args" "$T/got-args"
check "kiln-vmm: the rootfs is readable through /dev/fd/N" \
	grep -q -x '.kiln/config' "$T/vmm-list"
touch "$T/vmm-hang"
KILN_KVM=1 KILN_VMM=$T/fakevmm "$KILN" run --kernel "$FX/fx-exit-0.elf" \
	/bin/true >"$T/out" 2>"$T/err" </dev/null &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'vmm says hi' "$T/out"; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
st=$?
check "kiln-vmm: SIGTERM to kiln is forwarded, status 143" \
	sh -c "[ $st -eq 143 ] && grep -q got-term '$T/vmm-term'"

# QEMU itself failing.
KILN_QEMU=/no/such/qemu krun fx-exit-42
check "missing QEMU binary: status 125" [ "$st" -eq 125 ]
cat >"$T/fakeqemu" <<'EOS'
#!/bin/sh
echo "qemu-system-x86_64: -kernel: some failure" >&2
exit 1
EOS
chmod +x "$T/fakeqemu"
KILN_QEMU=$T/fakeqemu krun fx-exit-42
check "QEMU failure: status 125" [ "$st" -eq 125 ]
check "QEMU failure: its stderr is shown" grep -q 'some failure' "$T/err"

# A redirected stdout is appended to, never truncated or overwritten.
{
	echo before
	"$KILN" run --hypervisor qemu --kernel "$FX/fx-exit-0.elf" /bin/true \
		2>/dev/null </dev/null
	echo after
} >"$T/out"
check "stdout redirected to a file keeps what came before" out_is 'before
hi
after
'

# The image is deterministic.
for i in 1 2; do
	"$KILN" run --hypervisor qemu --kernel "$FX/fx-exit-0.elf" \
		--keep-rootfs "$T/r$i.cpio" -e A=1 /bin/echo x >/dev/null 2>&1
done
check "two packs of the same program give the same bytes" \
	cmp -s "$T/r1.cpio" "$T/r2.cpio"

check "no temp file left in \$TMPDIR at the end" [ -z "$(ls -A "$TMPDIR")" ]

echo "cli_run: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
