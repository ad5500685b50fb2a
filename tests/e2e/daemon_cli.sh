#!/bin/sh
# The kiln CLI around kilnd: --help of every command, which `kiln run`
# means a program and which an image, starting kilnd when none answers
# (inside this scenario's namespace), save/load round trips, list
# formats, bash completion, console log rotation, and the kiln-vmm path
# of the shim driven with a stand-in monitor (KILN_KVM=1 KILN_VMM=...,
# since kiln-vmm needs /dev/kvm, which this machine may lack): its
# command line, its status, and SIGTERM on stop.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

# A stand-in kiln-vmm: prints its arguments and exits 42, or, with MODE=
# in the command line, waits for SIGTERM and then: exits 143 as kiln-vmm
# does when it stops the VM (sleep), exits 7 as a program that handles
# SIGTERM would through kiln-vmm's graceful stop (graceful), or ignores it
# (stubborn).
FAKEVMM=$KILN_TEST_TMP/fake-kiln-vmm
cat >"$FAKEVMM" <<'EOF'
#!/bin/sh
echo "fake kiln-vmm: $*"
case "$*" in
*MODE=sleep*) trap 'echo "fake kiln-vmm: SIGTERM"; exit 143' TERM ;;
*MODE=graceful*) trap 'echo "program: SIGTERM, cleaning up"; exit 7' TERM ;;
*MODE=stubborn*) trap '' TERM ;;
*) exit 42 ;;
esac
while :; do sleep 0.1; done
EOF
chmod +x "$FAKEVMM"

export KILN_KVM=1 KILN_VMM="$FAKEVMM"
kd_start --log-max-size 64K --log-max-files 3 || exit 0
unset KILN_KVM KILN_VMM

check_begin "--help of every command, and kiln help COMMAND"
for c in run pack build ps logs start stop restart kill rm inspect images rmi \
	tag save load events network completion; do
	k "$c" --help
	want_status 0
	grep -q "^usage: kiln $c" "$KOUT" || fail_because "'kiln $c --help' has no usage line"
	k help "$c"
	want_status 0
	grep -q "^usage: kiln $c" "$KOUT" || fail_because "'kiln help $c' has no usage line"
done
k --help
want_status 0
want_out '^  -H, --host SOCKET'
k run -d --help
want_out '^usage: kiln run \[OPTIONS\] IMAGE$'
check_end

check_begin "images for the rest"
kd_build hello:1 examples/hello
kd_build seq:1 /usr/bin/seq 1 60000
kd_build sleep:1 /bin/sleep 1000
check_end

check_begin "foreground run IMAGE: SIGINT stops the instance, kiln exits 130"
echo "\$ kiln run --name fg sleep:1 & ... kill -INT" >>"$CHECK_LOG"
KILN_NO_AUTOSTART=1 "$KILN" -H "$KD_SOCK" run --name fg \
	--hypervisor qemu sleep:1 >"$KILN_TEST_TMP/fg.out" 2>&1 &
fg=$!
wait_until 60 kd_is fg running || fail_because "fg did not start"
kill -INT "$fg"
wait "$fg"
st=$?
cat "$KILN_TEST_TMP/fg.out" >>"$CHECK_LOG"
[ "$st" -eq 130 ] || fail_because "kiln exited $st, want 130"
[ "$(kd_state fg)" = stopped ] || fail_because "fg is $(kd_state fg), want stopped"
k rm fg
want_status 0
check_end

check_begin "kiln run PROGRAM stays kilnd-free; IMAGE goes to kilnd"
run_logged 120 env KILN_NO_AUTOSTART=1 KILN_HOST="$KILN_TEST_TMP/none.sock" \
	"$KILN" run ./examples/hello
want_status 0
want_out '^hello from kiln$'
run_logged 120 env KILN_NO_AUTOSTART=1 KILN_HOST="$KILN_TEST_TMP/none.sock" \
	"$KILN" run echo hi there
want_status 0
want_stdout_exact "hi there"
k run --hypervisor qemu hello:1
want_status 0
want_out '^hello from kiln$'
k run --image echo
want_status 1
want_one_error "no such image 'echo'"
k run -d ./examples/hello
want_status 125
want_one_error "'./examples/hello' is a program, and 'kiln run' with -d.*build one first \(kiln build -t NAME ./examples/hello\)"
run_logged 60 env KILN_NO_AUTOSTART=1 KILN_HOST="$KILN_TEST_TMP/none.sock" \
	"$KILN" run no-such-image-or-program
want_status 125
want_one_error "cannot reach kilnd"
check_end

check_begin "autostart: kiln starts kilnd when none answers, once"
AUTO=$KILN_TEST_TMP/auto
echo "\$ ip netns exec $KD_NS env KILN_STATE=$AUTO KILN_HOST=$AUTO.sock kiln ps" >>"$CHECK_LOG"
run_logged 60 ip netns exec "$KD_NS" env -u KILN_NO_AUTOSTART \
	KILN_STATE="$AUTO" KILN_HOST="$AUTO.sock" "$KILN" ps
want_status 0
want_out '^NAME +IMAGE +STATE'
grep -q "^kiln: started kilnd (pid [0-9]*, log $AUTO/kilnd.log)\$" "$KERR" ||
	fail_because "no 'started kilnd' notice: $(head -n 1 "$KERR")"
apid=$(cat "$AUTO/kilnd.lock" 2>/dev/null)
run_logged 60 ip netns exec "$KD_NS" env -u KILN_NO_AUTOSTART \
	KILN_STATE="$AUTO" KILN_HOST="$AUTO.sock" "$KILN" ps
want_status 0
[ -s "$KERR" ] && fail_because "a second notice: $(head -n 1 "$KERR")"
if [ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null; then
	wait_until 30 sh -c "! kill -0 $apid 2>/dev/null" || fail_because "autostarted kilnd did not stop"
else
	fail_because "no autostarted kilnd pid in $AUTO/kilnd.lock"
fi
check_end

check_begin "save and load: the same bytes as build -o, the same ID back"
k save -o "$KILN_TEST_TMP/saved.tar" hello:1
want_status 0
cmp -s "$KILN_TEST_TMP/saved.tar" "$KD_IMAGES/hello_1.tar" ||
	fail_because "kiln save differs from kiln build -o"
KILN_NO_AUTOSTART=1 "$KILN" -H "$KD_SOCK" save hello:1 >"$KILN_TEST_TMP/stdout.tar"
cmp -s "$KILN_TEST_TMP/saved.tar" "$KILN_TEST_TMP/stdout.tar" || fail_because "save to stdout differs"
id=$(kd_field hello:1 id)
k rmi -f hello:1
want_status 0
k load -i "$KILN_TEST_TMP/saved.tar"
want_status 0
want_stdout_exact "loaded $id (hello:1)"
echo "\$ kiln load -q -t again:2 < saved.tar" >>"$CHECK_LOG"
KILN_NO_AUTOSTART=1 "$KILN" -H "$KD_SOCK" load -q -t again:2 \
	<"$KILN_TEST_TMP/saved.tar" >"$KOUT" 2>>"$CHECK_LOG" ||
	fail_because "kiln load from stdin failed"
cat "$KOUT" >>"$CHECK_LOG"
[ "$(cat "$KOUT")" = "$id" ] || fail_because "load -q printed '$(cat "$KOUT")', want $id"
k images
want_out '^again +2 '
k save -o "$KILN_TEST_TMP/none.tar" ghost:1
want_status 1
want_one_error "no such image 'ghost:1'"
[ ! -e "$KILN_TEST_TMP/none.tar" ] || fail_because "a file was left by a failed save"
ls "$KILN_TEST_TMP" | grep -q 'none.tar.tmp' && fail_because "a temp file was left"
check_end

check_begin "list formats: ps -q/--json, images -q/--json, inspect"
k run -d --hypervisor qemu --name lf hello:1
k ps -aq
want_out '^lf$'
k ps -a --json
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert any(i["name"]=="lf" and i["image"]=="hello:1" for i in a)' "$KOUT" ||
	fail_because "ps --json lacks lf"
k images -q
want_out '^[0-9a-f]{12}$'
k images --json
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert any("hello:1" in i["tags"] for i in a)' "$KOUT" ||
	fail_because "images --json lacks hello:1"
k inspect lf hello:1
want_status 0
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a[0]["name"]=="lf" and a[1]["id"].startswith("sha256:")' "$KOUT" ||
	fail_because "inspect of an instance and an image is not [instance, image]"
k inspect --type image lf
want_status 1
check_end

check_begin "bash completion: commands and instance names"
if command -v bash >/dev/null; then
	"$KILN" completion bash >"$KILN_TEST_TMP/comp.bash"
	run_logged 30 bash -c ". '$KILN_TEST_TMP/comp.bash'; COMP_WORDS=(kiln st); COMP_CWORD=1; _kiln; echo \"\${COMPREPLY[*]}\"; COMP_WORDS=('$KILN' -H '$KD_SOCK' logs l); COMP_CWORD=4; _kiln; echo \"\${COMPREPLY[*]}\""
	want_status 0
	want_out '^start stop$'
	want_out '^lf$'
else
	fail_because "bash not installed"
fi
check_end

check_begin "console log rotation: 64K x 3, newest lines kept in order"
k run --hypervisor qemu --name chatty seq:1
want_status 0
dir=$KD_STATE/instances/$(kd_field chatty id)
ls -l "$dir" >>"$CHECK_LOG"
[ -f "$dir/console.log.1" ] && [ -f "$dir/console.log.2" ] || fail_because "no console.log.1 and .2"
[ ! -e "$dir/console.log.3" ] || fail_because "console.log.3 kept (3 files at most)"
total=$(cat "$dir"/console.log* | wc -c)
[ "$total" -le $((3 * (65536 + 65536))) ] || fail_because "$total bytes of logs kept"
k logs --tail 1 chatty
want_stdout_exact 60000
k logs chatty
grep -v '^kiln: ' "$KOUT" | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' ||
	fail_because "kiln logs is not a run of consecutive numbers"
first=$(head -n 1 "$KOUT")
[ "$first" -gt 1 ] || fail_because "the oldest lines were not dropped (first line $first)"
check_end

check_begin "kiln-vmm path (stand-in monitor): command line, status, address"
k run --name fv -e GREETING=hi hello:1
want_status 42
k logs fv
want_out "^fake kiln-vmm: --kernel $KD_STATE/blobs/sha256/[0-9a-f]{64} --initrd $KD_STATE/blobs/sha256/[0-9a-f]{64} --cmdline console=ttyS0 kiln.hostname=fv kiln.ip=10\\.88\\.[0-9.]+/16 kiln.gw=10\\.88\\.0\\.1 kiln.env=GREETING=hi --memory 64 --net kt[0-9a-f]{12} --mac 52:54:00(:[0-9a-f]{2}){3}\$"
[ "$(kd_field fv hypervisor)" = kiln-vmm ] || fail_because "hypervisor $(kd_field fv hypervisor), want kiln-vmm"
check_end

check_begin "kiln-vmm path: stop sends SIGTERM, status 143"
k run -d --name fvs -e MODE=sleep hello:1
want_status 0
k stop fvs
want_status 0
[ "$(kd_field fvs exit_code)" = 143 ] || fail_because "exit_code $(kd_field fvs exit_code), want 143"
k logs fvs
want_out '^fake kiln-vmm: SIGTERM$'
check_end

check_begin "kiln-vmm path: a graceful stop keeps the program's own status"
k run -d --name fvg -e MODE=graceful hello:1
k stop fvg
want_status 0
[ "$(kd_field fvg exit_code)" = 7 ] || fail_because "exit_code $(kd_field fvg exit_code), want 7"
[ "$(kd_state fvg)" = stopped ] || fail_because "state $(kd_state fvg), want stopped"
k logs fvg
want_out '^program: SIGTERM, cleaning up$'
check_end

check_begin "stop -t 1 of a monitor that ignores SIGTERM: SIGKILL, 137, why"
k run -d --name fvk -e MODE=stubborn hello:1
k stop -t 1 fvk
want_status 0
[ "$(kd_field fvk exit_code)" = 137 ] || fail_because "exit_code $(kd_field fvk exit_code), want 137"
[ "$(kd_field fvk error)" = "stopped with SIGKILL: it did not end within 1 s of SIGTERM" ] ||
	fail_because "error '$(kd_field fvk error)'"
[ -z "$(kd_procs | while read -r p; do grep -l fake-kiln-vmm /proc/$p/cmdline 2>/dev/null; done)" ] ||
	fail_because "the stand-in monitor survived"
check_end
