#!/bin/sh
# kilnd with networking, as issue 4's user does it: examples/httpd built
# into an image, 10 instances of it, each with its own address on the
# default network (kiln0, inside this scenario's namespace) and each
# answering HTTP; their logs show the requests; a published port; kill
# -9 of a monitor under --restart always (back with the same name and
# address); stop/start keep the address; kilnd SIGKILL and restart while
# the instances keep serving; a network of one's own; and rm/rmi leave
# no tap, lease, process or file behind.  All traffic stays inside the
# namespace (curl runs there too).
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

N=10
SITE=$KILN_TEST_TMP/site
mkdir -p "$SITE"
printf '<h1>served by kiln</h1>\n' >"$SITE/index.html"

kd_start || exit 0

# get URL: curl inside the namespace; the body in $KILN_TEST_TMP/got.
get() {
	ip netns exec "$KD_NS" curl -s -m 10 -o "$KILN_TEST_TMP/got" "$1"
}

# serves URL: the page arrives byte-exact.
serves() {
	get "$1" && cmp -s "$SITE/index.html" "$KILN_TEST_TMP/got"
}

ip_of() {
	kd_field "$1" ip
}

taps() {
	ip -n "$KD_NS" -o link show | awk -F': ' '{print $2}' | grep '^kt' || true
}

check_begin "build the web image"
kd_build web:1 --file "$SITE/index.html:/srv/index.html" examples/httpd -r /srv
check_end

check_begin "$N instances: $N distinct addresses in ps, each answers HTTP"
i=1
while [ "$i" -le "$N" ]; do
	k run -d --name "web-$i" --restart always web:1
	want_status 0
	i=$((i + 1))
done
k ps
want_count '^web-[0-9]+ +web:1 +running +10\.88\.[0-9]+\.[0-9]+ ' "$N"
n=$(awk 'NR > 1 { print $4 }' "$KOUT" | sort -u | wc -l)
[ "$n" -eq "$N" ] || fail_because "$n distinct addresses, want $N"
i=1
while [ "$i" -le "$N" ]; do
	addr=$(ip_of "web-$i")
	wait_until 60 serves "http://$addr:8080/" ||
		fail_because "web-$i ($addr) does not serve the page"
	i=$((i + 1))
done
check_end

check_begin "logs show each instance's own request lines"
get "http://$(ip_of web-3):8080/nothing-here"
k logs web-3
want_status 0
want_out '^httpd: serving /srv on 0\.0\.0\.0:8080$'
want_out '^GET / 200 [0-9]+$'
want_out '^GET /nothing-here 404 [0-9]+$'
k logs web-4
want_no_out 'nothing-here'
check_end

check_begin "kill -9 of a monitor: back with the same name and address"
addr=$(ip_of web-1)
pid=$(kd_field web-1 pid)
kill -KILL "$pid"
wait_until 30 sh -c "[ \"\$(KILN_NO_AUTOSTART=1 '$KILN' -H '$KD_SOCK' inspect web-1 | grep -c '\"restart_count\": 1')\" = 1 ]" ||
	fail_because "web-1 was not restarted"
[ "$(ip_of web-1)" = "$addr" ] || fail_because "address $(ip_of web-1), want $addr"
wait_until 60 serves "http://$addr:8080/" || fail_because "web-1 does not serve after the restart"
k ps
want_out "^web-1 +web:1 +running +$addr .* 1\$"
check_end

check_begin "published port: 127.0.0.1:8080 reaches the instance"
k run -d --name pub -p 127.0.0.1:8080:8080 web:1
want_status 0
k ps
want_out '^pub +web:1 +running +10\.88\.[0-9.]+ +127\.0\.0\.1:8080->8080/tcp '
wait_until 60 serves http://127.0.0.1:8080/ || fail_because "nothing served on 127.0.0.1:8080"
check_end

check_begin "a port already published, an invalid port spec: refused, nothing created"
leases=$(kd_sql 'SELECT count(*) FROM leases')
k run -d --name pub2 -p 127.0.0.1:8080:8080 web:1
want_status 1
want_one_error "cannot publish 127\.0\.0\.1:8080: address already in use"
k run -d --name pub3 -p 99999:80 web:1
want_status 1
want_one_error "invalid port spec '99999:80'"
k ps -a
want_no_out '^pub[23] '
[ "$(kd_sql 'SELECT count(*) FROM leases')" = "$leases" ] || fail_because "a lease was left behind"
serves http://127.0.0.1:8080/ || fail_because "the first publisher stopped serving"
check_end

check_begin "stop deletes the tap and keeps the address; start serves again"
addr=$(ip_of web-2)
tap=$(kd_sql "SELECT tap FROM leases WHERE instance_id = '$(kd_field web-2 id)'")
k stop web-2
want_status 0
taps | grep -q -x "$tap" && fail_because "tap $tap still there after stop"
[ "$(ip_of web-2)" = "$addr" ] || fail_because "stopped web-2 shows $(ip_of web-2), want $addr"
k start web-2
want_status 0
[ "$(ip_of web-2)" = "$addr" ] || fail_because "address changed to $(ip_of web-2)"
wait_until 60 serves "http://$addr:8080/" || fail_because "web-2 does not serve after start"
check_end

check_begin "kilnd SIGKILL: instances keep serving; restarted kilnd knows them all"
k ps
sort "$KOUT" >"$KILN_TEST_TMP/ps.before"
kd_kill9
addr5=$(awk '$1 == "web-5" { print $4 }' "$KILN_TEST_TMP/ps.before")
serves "http://$addr5:8080/" || fail_because "web-5 stopped serving while kilnd was down"
kd_start || fail_because "kilnd did not start again"
k ps
awk '{ print $1, $2, $3, $4, $5 }' "$KILN_TEST_TMP/ps.before" | sort >"$KILN_TEST_TMP/a"
awk '{ print $1, $2, $3, $4, $5 }' "$KOUT" | sort >"$KILN_TEST_TMP/b"
cmp -s "$KILN_TEST_TMP/a" "$KILN_TEST_TMP/b" || fail_because "ps differs after the restart: $(diff "$KILN_TEST_TMP/a" "$KILN_TEST_TMP/b" | tr '\n' ' ')"
wait_until 30 serves http://127.0.0.1:8080/ || fail_because "the published port is not served again"
i=1
while [ "$i" -le "$N" ]; do
	serves "http://$(ip_of "web-$i"):8080/" || fail_because "web-$i no longer serves"
	i=$((i + 1))
done
check_end

check_begin "a network of one's own: create, run on it, refuse rm while used"
k network create --subnet 10.89.7.0/24 mine
want_status 0
k network ls
want_out '^mine +10\.89\.7\.0/24 +10\.89\.7\.1 '
want_out '^kiln0 +10\.88\.0\.0/16 '
k run -d --name other --network mine web:1
want_status 0
addr=$(ip_of other)
case $addr in 10.89.7.*) ;; *) fail_because "address $addr, want 10.89.7.x" ;; esac
wait_until 60 serves "http://$addr:8080/" || fail_because "'other' does not serve"
k network rm mine
want_status 1
want_one_error "network 'mine' is in use"
k run -d --network nowhere web:1
want_status 1
want_one_error "no such network 'nowhere' \(see 'kiln network ls'\)"
k rm -f other
k network rm mine
want_status 0
k network ls
want_no_out '^mine '
check_end

check_begin "rm -f and rmi leave no tap, lease, process, file or row"
k rm -f $(kq ps -aq)
want_status 0
k rmi web:1
want_status 0
[ -z "$(taps)" ] || fail_because "taps left: $(taps | tr '\n' ' ')"
[ "$(kd_sql 'SELECT count(*) FROM leases')" = 0 ] || fail_because "leases left"
[ "$(kd_sql 'SELECT count(*) FROM instances')" = 0 ] || fail_because "instance rows left"
[ -z "$(kd_procs)" ] || fail_because "processes left: $(kd_procs)"
[ -z "$(ls "$KD_STATE/instances")" ] || fail_because "instance files left"
[ -z "$(ls "$KD_STATE/blobs/sha256")" ] || fail_because "blobs left"
ip netns exec "$KD_NS" curl -s -m 5 http://127.0.0.1:8080/ >/dev/null 2>&1 &&
	fail_because "127.0.0.1:8080 still answers after rm"
check_end
