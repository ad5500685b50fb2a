#!/bin/sh
# Debian's python3, unmodified, under kiln run (issue 5), with its
# standard library packed with --dir (a copy of /usr/lib/python3.11
# without what a server never imports: the 24 MiB static libpython for
# embedding, tests, tkinter, idle, lib2to3, distutils; see docs/apps.md).
#   - python3 -c prints 45;
#   - socket.socketpair() and an AF_UNIX listener on a path;
#   - tests/apps/python/stdlib.py: json, re, hashlib, zlib, decimal,
#     files (fsync, rename), mmap (MAP_SHARED), flock, the sqlite3 module
#     (libsqlite3 packed with --file, loaded with dlopen), resource,
#     sysconf, a 64 MiB allocation, MemoryError for an impossible one;
#   - an uncaught exception: the traceback and status 1;
#   - `python3 -m http.server 8000 --directory /srv` (ThreadingHTTPServer:
#     a thread per request) serves a directory to curl in a network
#     namespace this script creates: a page and a 1 MiB file byte-exact,
#     the listing, a 404, then 8 clients at once downloading the 1 MiB
#     file (each on its own server thread) all byte-exact.  The
#     namespace, its tap and the guest are removed whatever happens.
# The standard library's packing is shared with tests/e2e/vmm_apps.sh
# (tests/apps/apps.sh).
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

. "$KILN_ROOT/tests/apps/apps.sh"

PY=$APPS_PY
LIBSQLITE=/usr/lib/x86_64-linux-gnu/libsqlite3.so.0
APPS=tests/apps/python
NS=kilntest-py-$$
TAP=ktappy0
HOST_IP=10.0.8.1
GUEST_IP=10.0.8.2
URL=http://$GUEST_IP:8000
GUEST_OUT=$KILN_TEST_TMP/guest.out

for f in "$PY" "$APPS_PY_STDLIB/os.py" "$LIBSQLITE"; do
	if [ ! -e "$f" ]; then
		test_fail "$SCENARIO: python3" "$f missing (scripts/deps.sh installs python3 and libsqlite3-dev)"
		exit 0
	fi
done

apps_python_prepare "$KILN_TEST_TMP/python3.11"
PYDIR=$APPS_PY_OPTS

check_begin "python3 -c 'print(sum(range(10)))' prints 45"
# shellcheck disable=SC2086 # PYDIR is two words
krun -m 128M $PYDIR "$PY" -c 'print(sum(range(10)))'
want_status 0
want_stdout_exact "45"
check_end

check_begin "python: socket.socketpair and an AF_UNIX listener on a path"
# shellcheck disable=SC2086
krun -m 128M $PYDIR "$PY" -c '
import os, socket
a, b = socket.socketpair()
a.sendall(b"ping")
print(b.recv(16).decode())
s = socket.socket(socket.AF_UNIX)
s.bind("/tmp/py.sock")
s.listen()
c = socket.socket(socket.AF_UNIX)
c.connect("/tmp/py.sock")
x, _ = s.accept()
c.sendall(b"pong")
print(x.recv(16).decode(), os.path.exists("/tmp/py.sock"))'
want_status 0
want_out '^ping$'
want_out '^pong True$'
check_end

check_begin "the standard library works (json, files, mmap, flock, sqlite3...)"
# shellcheck disable=SC2086
krun -m 256M $PYDIR --file "$APPS/stdlib.py:/app/stdlib.py" \
	--file "$LIBSQLITE:$LIBSQLITE" "$PY" /app/stdlib.py
want_status 0
want_out '^python stdlib: 17 passed, 0 failed$'
want_no_out '^FAIL '
want_no_out '^kiln: '
check_end

check_begin "an uncaught exception prints the traceback, status 1"
# shellcheck disable=SC2086
krun -m 128M $PYDIR "$PY" -c 'print("before"); 1 / 0'
want_status 1
want_out '^before$'
want_out '^Traceback \(most recent call last\):$'
want_out '^ZeroDivisionError: division by zero$'
check_end

# http.server ------------------------------------------------------------------

trap netns_exit EXIT
netns_with_tap "$NS" "$TAP" "$HOST_IP" || exit 0

SITE=$KILN_TEST_TMP/site
apps_python_site "$SITE"

check_begin "http.server serves a directory: a page and 1 MiB byte-exact"
echo "\$ kiln run --hypervisor qemu --net $TAP ... $PY -m http.server 8000 --directory /srv" >>"$CHECK_LOG"
# shellcheck disable=SC2086
timeout -k 5 300 ip netns exec "$NS" "$KILN" run --hypervisor qemu -m 256M \
	--net "$TAP" --ip "$GUEST_IP/24" --gw "$HOST_IP" $PYDIR \
	--dir "$SITE:/srv" "$PY" -m http.server 8000 --directory /srv >"$GUEST_OUT" 2>&1 </dev/null &
GUEST_PID=$!
up=""
guest_wait_http "$URL/index.html" && up=1
if [ -n "$up" ]; then
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/index.got" \
		-w '%{http_code} %{content_type}\n' "$URL/"
	want_out '^200 text/html$'
	cmp -s "$SITE/index.html" "$KILN_TEST_TMP/index.got" ||
		fail_because "the page differs"
	host_run 60 curl -sS -m 50 -o "$KILN_TEST_TMP/data.got" \
		-w '%{http_code} %{size_download}\n' "$URL/sub/data.bin"
	want_out '^200 1048576$'
	[ "$(sha256sum <"$SITE/sub/data.bin")" = "$(sha256sum <"$KILN_TEST_TMP/data.got")" ] ||
		fail_because "sha256 of the 1 MiB file differs"
else
	fail_because "http.server did not answer within 60 s"
fi
PY_UP=$CHECK_WHY
check_end

if [ -z "$PY_UP" ]; then
	check_begin "http.server lists a directory and answers 404"
	host_run 30 curl -sS -m 20 "$URL/sub/"
	want_out '<a href="data.bin">data.bin</a>'
	host_run 30 curl -sS -m 20 -o /dev/null -w '%{http_code}\n' "$URL/nothing.txt"
	want_out '^404$'
	check_end

	check_begin "8 concurrent downloads of 1 MiB, a server thread each, all intact"
	want_downloads 8 "$URL/sub/data.bin" "$SITE/sub/data.bin"
	check_end
fi

check_begin "http.server logged the requests; SIGTERM stops it"
guest_stop
tr -d '\r' <"$GUEST_OUT" >"$KOUT"
: >"$KERR"
cat "$KOUT" >>"$CHECK_LOG"
[ "$GUEST_ST" = 143 ] || fail_because "status $GUEST_ST, want 143"
if [ -z "$PY_UP" ]; then
	want_out '"GET /sub/data.bin HTTP/1.1" 200 -$'
	want_out '"GET /nothing.txt HTTP/1.1" 404 -$'
	want_count '"GET /sub/data.bin HTTP/1.1" 200 -$' 9
	want_no_out "can't start new thread"
fi
want_no_out '^kiln: .*(panic|fault|not implemented|out of memory)'
check_end
