#!/bin/sh
# Ctrl-C stops the VM: SIGINT to a `kiln run` whose program would run for
# 1000 s ends it with 130 (128 + SIGINT) within seconds, and nothing of it
# (QEMU or kiln-vmm) is left running.  The VM is found by a harmless word
# on its kernel command line (kiln run --kernel-arg), which appears in the
# monitor's arguments.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

# vm_running TOKEN: some process has TOKEN in its command line.
vm_running() {
	for f in /proc/[0-9]*/cmdline; do
		if tr '\0' ' ' <"$f" 2>/dev/null | grep -q -F -e "$1"; then
			# Not this shell's own grep/tr pipeline, and not kiln
			# itself (its --kernel-arg carries the token too): only
			# the monitor counts as the VM.
			case $f in "/proc/$$/cmdline" | "/proc/${pid:-x}/cmdline") continue ;; esac
			return 0
		fi
	done
	return 1
}

check_begin "SIGINT (Ctrl-C) stops the VM with 130 and leaves nothing behind"
token=kiln_e2e_interrupt_$$
echo "\$ kiln run --kernel-arg $token=1 /bin/sleep 1000 & (then SIGINT)" \
	>>"$CHECK_LOG"
if [ ! -x "$KILN" ]; then
	fail_because "${KILN#"$KILN_ROOT"/} not built"
else
	# A background job of a non-interactive shell starts with SIGINT
	# ignored; give kiln the default disposition as a terminal would.
	env --default-signal=INT "$KILN" run --kernel-arg "$token=1" \
		/bin/sleep 1000 </dev/null >"$KOUT" 2>"$KERR" &
	pid=$!
	n=0
	while ! vm_running "$token=1" && [ $n -lt 60 ]; do
		sleep 1
		n=$((n + 1))
	done
	vm_running "$token=1" ||
		fail_because "no monitor with '$token' in its command line started"
	# Let the guest get going (boot, sleep) before the interrupt.
	sleep 2
	kill -INT "$pid"
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 30 ]; do
		sleep 1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail_because "kiln still running 30 s after SIGINT"
		kill -KILL "$pid"
	fi
	wait "$pid"
	KST=$?
	{
		echo "status $KST"
		cat "$KOUT" "$KERR"
	} >>"$CHECK_LOG"
	want_status 130
	sleep 1
	if vm_running "$token=1"; then
		fail_because "a process with '$token' in its command line is left"
	fi
fi
check_end
