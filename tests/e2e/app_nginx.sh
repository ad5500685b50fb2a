#!/bin/sh
# Debian's nginx, unmodified, under kiln run (issue 5): one process
# (-g 'daemon off; master_process off;') on QEMU with a tap in a network
# namespace this script creates, configured by tests/apps/nginx/, the
# site packed with --dir.  curl in the namespace checks what a user
# would: the page and a 1 MiB binary byte-exact (sendfile), MIME types
# from Debian's mime.types, a 404, a range request, keep-alive, 20
# concurrent downloads, a 1 MiB WebDAV upload (a temporary file renamed
# into place) read back and deleted, stub_status, and the access and
# error logs nginx wrote inside the guest.  Then SIGTERM to kiln reaches
# nginx (the graceful stop), which shuts down and exits 0, and a
# broken configuration is refused with nginx's own message and status 1.
# The namespace, its tap and the guest are removed whatever happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

. "$KILN_ROOT/tests/apps/apps.sh"

NS=kilntest-nginx-$$
TAP=ktapng0
HOST_IP=10.0.7.1
GUEST_IP=10.0.7.2
URL=http://$GUEST_IP:8080
GUEST_OUT=$KILN_TEST_TMP/guest.out

if [ ! -x "$APPS_NGINX" ]; then
	test_fail "$SCENARIO: nginx" "$APPS_NGINX missing (scripts/deps.sh installs nginx-light)"
	exit 0
fi
trap netns_exit EXIT
netns_with_tap "$NS" "$TAP" "$HOST_IP" || exit 0

# The site (tests/apps/apps.sh) and a file to upload.
apps_nginx_prepare "$KILN_TEST_TMP"
SITE=$KILN_TEST_TMP/site
head -c 1048576 /dev/urandom >"$KILN_TEST_TMP/upload.bin"

check_begin "nginx starts and serves the index page byte-exact"
echo "\$ kiln run --hypervisor qemu --net $TAP --ip $GUEST_IP/24 $APPS_NGINX_OPTS $APPS_NGINX" >>"$CHECK_LOG"
# shellcheck disable=SC2086 # the options are words
timeout -k 5 300 ip netns exec "$NS" "$KILN" run --hypervisor qemu \
	--net "$TAP" --ip "$GUEST_IP/24" --gw "$HOST_IP" $APPS_NGINX_OPTS \
	"$APPS_NGINX" -g "$APPS_NGINX_G" >"$GUEST_OUT" 2>&1 </dev/null &
GUEST_PID=$!
up=""
guest_wait_http "$URL/status" && up=1
if [ -n "$up" ]; then
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/index.got" \
		-w '%{http_code} %{content_type}\n' "$URL/"
	want_status 0
	want_out '^200 text/html$'
	cmp -s "$SITE/index.html" "$KILN_TEST_TMP/index.got" ||
		fail_because "the page differs from index.html"
else
	tr -d '\r' <"$GUEST_OUT" >>"$CHECK_LOG"
	fail_because "nginx did not answer within 60 s"
fi
NGINX_UP=$CHECK_WHY
check_end

if [ -z "$NGINX_UP" ]; then
	check_begin "a 1 MiB binary arrives with the same sha256"
	host_run 60 curl -sS -m 50 -o "$KILN_TEST_TMP/big.got" \
		-w '%{http_code} %{content_type} %{size_download}\n' "$URL/big.bin"
	want_status 0
	want_out '^200 application/octet-stream 1048576$'
	[ "$(sha256sum <"$SITE/big.bin")" = "$(sha256sum <"$KILN_TEST_TMP/big.got")" ] ||
		fail_because "sha256 differs"
	check_end

	check_begin "types from mime.types, a 404, a range request"
	host_run 30 curl -sS -m 20 -o /dev/null -w '%{http_code} %{content_type}\n' \
		"$URL/style.css"
	want_out '^200 text/css$'
	host_run 30 curl -sS -m 20 -o /dev/null -w '%{http_code}\n' "$URL/no/such.html"
	want_out '^404$'
	host_run 30 curl -sS -m 20 -r 1000-1099 -o "$KILN_TEST_TMP/range.got" \
		-w '%{http_code} %{size_download}\n' "$URL/big.bin"
	want_out '^206 100$'
	dd if="$SITE/big.bin" bs=100 skip=10 count=1 2>/dev/null |
		cmp -s - "$KILN_TEST_TMP/range.got" ||
		fail_because "the range's bytes differ"
	check_end

	check_begin "keep-alive: three requests on one connection"
	host_run 30 curl -sS -m 20 -o /dev/null -o /dev/null -o /dev/null \
		-w '%{http_code} %{num_connects}\n' \
		"$URL/" "$URL/style.css" "$URL/index.html"
	want_status 0
	want_count '^200 1$' 1
	want_count '^200 0$' 2
	check_end

	check_begin "20 concurrent downloads of the 1 MiB binary are all intact"
	want_downloads 20 "$URL/big.bin" "$SITE/big.bin"
	check_end

	check_begin "a 1 MiB WebDAV upload is stored, served back and deleted"
	host_run 60 curl -sS -m 50 -T "$KILN_TEST_TMP/upload.bin" \
		-w '%{http_code}\n' "$URL/upload/new/dir/file.bin"
	want_out '^201$'
	host_run 60 curl -sS -m 50 -o "$KILN_TEST_TMP/upload.got" \
		-w '%{http_code}\n' "$URL/upload/new/dir/file.bin"
	want_out '^200$'
	[ "$(sha256sum <"$KILN_TEST_TMP/upload.bin")" = "$(sha256sum <"$KILN_TEST_TMP/upload.got")" ] ||
		fail_because "the uploaded file comes back different"
	host_run 30 curl -sS -m 20 -X DELETE -w '%{http_code}\n' \
		"$URL/upload/new/dir/file.bin"
	want_out '^204$'
	host_run 30 curl -sS -m 20 -o /dev/null -w '%{http_code}\n' \
		"$URL/upload/new/dir/file.bin"
	want_out '^404$'
	check_end

	check_begin "stub_status counts the connections and requests"
	host_run 30 curl -sS -m 20 "$URL/status"
	want_out '^Active connections: [0-9]+ *$'
	# accepts handled requests: at least the 30-odd requests above
	line=$(grep -A1 '^server accepts' "$KOUT" | tail -n 1)
	req=$(echo "$line" | awk '{print $3}')
	[ "${req:-0}" -ge 30 ] || fail_because "requests '${line}', want 30 or more"
	check_end

	check_begin "nginx logged every request and no error worth a line"
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/access.log" "$URL/logs/access.log"
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/error.log" "$URL/logs/error.log"
	cat "$KILN_TEST_TMP/access.log" "$KILN_TEST_TMP/error.log" >"$KOUT"
	: >"$KERR"
	want_count '"GET /big.bin HTTP/1.1" 200 1048576 ' 21
	want_count '"GET /big.bin HTTP/1.1" 206 100 ' 1
	want_count '"PUT /upload/new/dir/file.bin HTTP/1.1" 201 ' 1
	want_out '\[notice\] .*using the "epoll" event method'
	want_no_out '\[(emerg|crit)\]'
	# AF_UNIX works: nginx's socketpair probe for EPOLLRDHUP no longer
	# logs "[alert] socketpair() failed"
	want_no_out '\[alert\]'
	check_end
fi

check_begin "SIGTERM reaches nginx, which exits 0; the kernel complained of nothing"
guest_stop
tr -d '\r' <"$GUEST_OUT" >"$KOUT"
: >"$KERR"
cat "$KOUT" >>"$CHECK_LOG"
[ "$GUEST_ST" = 0 ] || fail_because "status $GUEST_ST, want 0 (nginx's own)"
want_out '\[notice\] .*signal 15 \(SIGTERM\) received, exiting$'
want_out '\[notice\] .*: exit$'
want_no_out '^kiln: .*(panic|fault|assert|not implemented|out of memory)'
check_end

check_begin "a broken configuration: nginx's message and status 1"
printf 'events {}\nhttp { bogus_directive on; }\n' >"$KILN_TEST_TMP/bad.conf"
krun --file "$KILN_TEST_TMP/bad.conf:/etc/nginx/nginx.conf" \
	--file tests/apps/nginx/passwd:/etc/passwd \
	--file tests/apps/nginx/group:/etc/group "$APPS_NGINX" -g "$APPS_NGINX_G"
want_status 1
want_out '\[emerg\] .*unknown directive "bogus_directive" in /etc/nginx/nginx.conf:2'
check_end
