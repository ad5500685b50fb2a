#!/bin/sh
# Debian's servers on kiln-vmm (issue 5), packed exactly as the QEMU-side
# scenarios pack them (tests/apps/apps.sh): ONE nested-KVM Linux guest
# (scripts/nested-kvm.sh; this machine has no /dev/kvm) puts a tap on a
# bridge and runs, one after the other on kiln-vmm --net, with Debian's
# curl, redis-cli and redis-benchmark (copied in with their libraries) as
# clients in the nested guest:
#   - nginx: the page and a 1 MiB file byte-exact (sha256), three requests
#     on one keep-alive connection, 10 concurrent 1 MiB downloads intact,
#     SIGTERM reaches nginx, which exits 0 (app_nginx.sh has more on QEMU);
#   - redis-server: PING, SET/GET, a 1 MiB value byte-exact, a short
#     redis-benchmark (SET and GET) with no errors, SHUTDOWN NOSAVE ends
#     the instance with status 0 (app_redis.sh);
#   - python3 -m http.server (ThreadingHTTPServer: a thread per request)
#     serving a directory: the page and 1 MiB byte-exact, 8 concurrent
#     1 MiB downloads intact, every request logged, no thread error
#     (app_python.sh);
#   - the Go net/http server of go_http.sh: 20 concurrent clients whose
#     requests each start 1000 goroutines, 10 that sleep in the server.
# tests/nested/apps_guest.sh is the half that runs in the nested guest;
# each of its cases becomes one check here.  All traffic stays in the
# throw-away nested guest.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/apps/apps.sh"

W=$KILN_TEST_TMP/apps
LOG=$(log_path "$SCENARIO/run")
mkdir -p "$W/nginx" "$W/redis" "$W/python" "$(dirname "$LOG")"
GO=build/tests/go/httpd

for f in "$KILN" build/kiln-vmm.static build/kiln.elf "$GO" "$APPS_NGINX" \
	"$APPS_REDIS" "$APPS_PY" /usr/bin/curl /usr/bin/redis-cli \
	/usr/bin/redis-benchmark; do
	if [ ! -e "$f" ]; then
		test_fail "$SCENARIO: setup" "$f missing (run make and scripts/deps.sh)"
		exit 0
	fi
done

# pack NAME ARGS...: `kiln pack` of one guest into $W/NAME.cpio.
pack() {
	name=$1
	shift
	if ! "$KILN" pack -o "$W/$name.cpio" "$@" >"$W/pack.err" 2>&1; then
		test_fail "$SCENARIO: pack $name" "kiln pack failed: $(head -n 1 "$W/pack.err")"
		exit 0
	fi
}

apps_nginx_prepare "$W/nginx"
# shellcheck disable=SC2086 # the options are words
pack nginx $APPS_NGINX_OPTS "$APPS_NGINX" -g "$APPS_NGINX_G"
pack redis "$APPS_REDIS" --port 6379 --save '' --appendonly no --protected-mode no
head -c 1048576 /dev/urandom >"$W/redis/big.bin"
apps_python_prepare "$KILN_TEST_TMP/python3.11"
apps_python_site "$W/python/site"
# shellcheck disable=SC2086
pack python $APPS_PY_OPTS --dir "$W/python/site:/srv" \
	"$APPS_PY" -m http.server 8000 --directory /srv
pack go "$GO"
rm -rf "$KILN_TEST_TMP/python3.11"

cp build/kiln-vmm.static "$W/kiln-vmm"
cp build/kiln.elf "$W/kiln.elf"
cp tests/nested/apps_guest.sh "$W/guest.sh"
cp tests/nested/guest_lib.sh "$W/guest_lib.sh"
if ! tests/nested/net_modules.sh "$W/mod" >"$W/mod.err" 2>&1; then
	test_fail "$SCENARIO: setup" "no tun and bridge modules: $(tail -n 1 "$W/mod.err")"
	exit 0
fi

# The clients and the libraries they link.
set -- --add "$W:/apps"
for p in /usr/bin/curl /usr/bin/redis-cli /usr/bin/redis-benchmark; do
	set -- "$@" --add "$p:$p"
	for l in $(ldd "$p" | grep -o '/[^ ]*'); do
		set -- "$@" --add "$l:$l"
	done
done

start=$(date +%s)
run_limited 1800 "$LOG.raw" = bash scripts/nested-kvm.sh --mem 1536 \
	--timeout 1500 "$@" -- sh /apps/guest.sh
tr -d '\r' <"$LOG.raw" >"$LOG"
rm -f "$LOG.raw"
echo "vmm_apps: nested guest exit $RUN_STATUS after $(($(date +%s) - start)) s" >>"$LOG"

nested_case_check "$LOG" nginx-start "nginx on kiln-vmm starts and answers"
nested_case_check "$LOG" nginx-page "nginx on kiln-vmm: the page byte-exact"
nested_case_check "$LOG" nginx-1mib "nginx on kiln-vmm: 1 MiB with the same sha256"
nested_case_check "$LOG" nginx-keepalive "nginx on kiln-vmm: three requests on one keep-alive connection"
nested_case_check "$LOG" nginx-clients "nginx on kiln-vmm: 10 concurrent 1 MiB downloads intact"
nested_case_check "$LOG" nginx-stop "nginx on kiln-vmm: SIGTERM, nginx exits 0, the kernel complained of nothing"
nested_case_check "$LOG" redis-start "redis-server on kiln-vmm starts and answers PING"
nested_case_check "$LOG" redis-setget "redis-server on kiln-vmm: SET and GET"
nested_case_check "$LOG" redis-1mib "redis-server on kiln-vmm: a 1 MiB value byte-exact"
nested_case_check "$LOG" redis-benchmark "redis-server on kiln-vmm: redis-benchmark SET and GET with no errors"
nested_case_check "$LOG" redis-shutdown "redis-server on kiln-vmm: SHUTDOWN NOSAVE ends the instance with status 0"
nested_case_check "$LOG" py-start "python3 -m http.server on kiln-vmm starts and answers"
nested_case_check "$LOG" py-page "python3 -m http.server on kiln-vmm: the page byte-exact"
nested_case_check "$LOG" py-1mib "python3 -m http.server on kiln-vmm: 1 MiB with the same sha256"
nested_case_check "$LOG" py-clients "python3 -m http.server on kiln-vmm: 8 concurrent 1 MiB downloads, a thread each, intact"
nested_case_check "$LOG" py-stop "python3 -m http.server on kiln-vmm: every request logged, SIGTERM gives 143"
nested_case_check "$LOG" go-start "Go net/http on kiln-vmm starts and answers"
nested_case_check "$LOG" go-clients "Go net/http on kiln-vmm: 20 concurrent clients, 1000 goroutines each"
nested_case_check "$LOG" go-sleep "Go net/http on kiln-vmm: 10 concurrent requests that sleep in the server"
nested_case_check "$LOG" go-stop "Go net/http on kiln-vmm: SIGTERM gives 143, the kernel complained of nothing"
