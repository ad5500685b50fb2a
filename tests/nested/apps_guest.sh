#!/bin/sh
# The in-guest half of tests/e2e/vmm_apps.sh (read its header): runs in
# the nested-KVM Linux guest (busybox, /dev/kvm), everything under /apps.
# Four kiln guests on kiln-vmm, one after the other, on tap0 enslaved to
# br0, with Debian's curl, redis-cli and redis-benchmark as clients: nginx,
# redis-server, python3 -m http.server, the Go net/http server.  One line
# per case: "case NAME ok" or "case NAME FAIL (why)"; each guest's console
# comes out after its cases.  Every wait polls with a generous limit (the
# whole guest runs under software emulation on a shared host); nothing
# asserts a time.
# CASES: the case names, in order (tests/e2e/vmm_apps.sh names each one).
CASES="nginx-start nginx-page nginx-1mib nginx-clients nginx-keepalive
nginx-stop redis-start redis-setget redis-1mib redis-benchmark
redis-shutdown py-start py-page py-1mib py-clients py-stop go-start
go-clients go-sleep go-stop"
d=/apps
HOST=10.0.9.1
GUEST=10.0.9.15
KCMD="console=ttyS0 kiln.ip=$GUEST/24 kiln.gw=$HOST"
. $d/guest_lib.sh
set -u
guest_bridge $HOST

# sha FILE: its sha256.
sha() { sha256sum <"$1" | cut -d' ' -f1; }

# wait_http URL SECONDS: until URL answers (the server is up).
wait_http() {
	end=$(($(now) + $2))
	while [ "$(now)" -lt "$end" ]; do
		curl -s -m 5 -o /dev/null "$1" && return 0
		kill -0 $vpid 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# par_get N URL DIR: N clients at once, each downloading URL into DIR/I;
# prints how many exited 0.  Called in $(...): a subshell, so its wait
# sees only the curls, not the kiln-vmm running in the background.
par_get() {
	mkdir -p "$3"
	i=1
	while [ $i -le "$1" ]; do
		(curl -sS -m 300 -o "$3/$i" "$2" && echo ok >"$3/$i.st") &
		i=$((i + 1))
	done
	wait
	set -- "$3"/*.st
	[ -e "$1" ] && echo $# || echo 0
}

# intact N DIR SHA: how many of DIR/1..N have the sha256 SHA.
intact() {
	n=0
	i=1
	while [ $i -le "$1" ]; do
		[ "$(sha "$2/$i")" = "$3" ] && n=$((n + 1))
		i=$((i + 1))
	done
	echo $n
}

# http_cases NAME URL SITE PATH N: the cases NAME-page (URL/ is
# SITE/index.html), NAME-1mib (URL/PATH is SITE/PATH, 1 MiB) and
# NAME-clients (N clients at once download URL/PATH intact).
http_cases() {
	code=$(curl -sS -m 60 -o /tmp/index.got -w '%{http_code}' "$2/")
	if [ "$code" = 200 ] && cmp -s "$3/index.html" /tmp/index.got; then
		ok $1-page; else fail $1-page "$code, or the page differs"; fi
	want=$(sha "$3/$4")
	code=$(curl -sS -m 120 -o /tmp/big.got -w '%{http_code} %{size_download}' "$2/$4")
	got=$(sha /tmp/big.got)
	if [ "$code" = "200 1048576" ] && [ "$got" = "$want" ]; then
		ok $1-1mib; else fail $1-1mib "$code, sha256 $got"; fi
	n=$(par_get "$5" "$2/$4" /tmp/$1-par)
	good=$(intact "$5" /tmp/$1-par "$want")
	if [ "$n" = "$5" ] && [ "$good" = "$5" ]; then
		ok $1-clients; else fail $1-clients "$n of $5 curls ok, $good intact"; fi
}

# complaint FILE: the kernel complained (a panic, a fault, a missing
# syscall) in a console.
complaint() {
	grep -E '^kiln: .*(panic|fault|assert|not implemented|out of memory)' "$1"
}

# console NAME: the guest's console, framed, for the host's log.
console() {
	echo "--- console of $1"
	cat "/tmp/$1.out"
	echo "---"
}

# 1. nginx ---------------------------------------------------------------------

URL=http://$GUEST:8080
vmm_bg nginx $d/nginx.cpio 128 ""
if wait_http "$URL/status" 120; then
	ok nginx-start
	http_cases nginx "$URL" $d/nginx/site big.bin 10
	curl -sS -m 60 -o /dev/null -o /dev/null -o /dev/null \
		-w '%{http_code} %{num_connects}\n' \
		"$URL/" "$URL/style.css" "$URL/index.html" >/tmp/ka 2>&1
	cat /tmp/ka
	if [ "$(count /tmp/ka '^200 1$')" = 1 ] && [ "$(count /tmp/ka '^200 0$')" = 2 ]; then
		ok nginx-keepalive; else fail nginx-keepalive "not three 200s on one connection"; fi
else
	fail nginx-start "no answer within 120 s"
fi
vmm_end TERM
console nginx
# kiln-vmm passes SIGTERM to the program (a graceful stop): nginx's
# handler finishes and exits 0.
if [ "$vst" = 0 ] && grep -q 'signal 15 (SIGTERM) received, exiting' /tmp/nginx.out &&
	! complaint /tmp/nginx.out; then
	ok nginx-stop
else
	fail nginx-stop "status $vst (want 0 after nginx's 'exiting'), or a kernel complaint"
fi

# 2. redis-server ------------------------------------------------------------------

cli() { redis-cli -h $GUEST -p 6379 "$@"; }
vmm_bg redis $d/redis.cpio 256 ""
if vmm_wait_line 'Ready to accept connections' 120 && [ "$(cli PING)" = PONG ]; then
	ok redis-start
	a=$(cli SET greeting 'hello from kiln-vmm')
	b=$(cli GET greeting)
	if [ "$a" = OK ] && [ "$b" = 'hello from kiln-vmm' ]; then
		ok redis-setget; else fail redis-setget "SET '$a', GET '$b'"; fi
	a=$(cli -x SET big <$d/redis/big.bin)
	cli --raw GET big >/tmp/rbig.got
	head -c 1048576 /tmp/rbig.got >/tmp/rbig.bin
	size=$(wc -c </tmp/rbig.got)
	if [ "$a" = OK ] && [ "$size" = 1048577 ] &&
		[ "$(sha /tmp/rbig.bin)" = "$(sha $d/redis/big.bin)" ]; then
		ok redis-1mib; else fail redis-1mib "SET '$a', GET $size bytes"; fi
	redis-benchmark -h $GUEST -q -n 1000 -c 10 -t set,get >/tmp/bench 2>&1
	st=$?
	tr '\r' '\n' </tmp/bench >/tmp/bench.lines
	grep 'requests per second' /tmp/bench.lines
	if [ $st = 0 ] && grep -q -E '^SET: [0-9.]+ requests per second' /tmp/bench.lines &&
		grep -q -E '^GET: [0-9.]+ requests per second' /tmp/bench.lines &&
		! grep -q -i -E 'error|refused|reset|timeout' /tmp/bench.lines &&
		[ "$(cli EXISTS key:__rand_int__)" = 1 ]; then
		ok redis-benchmark
	else
		fail redis-benchmark "status $st: $(grep -i -m 1 -E 'error|refused|reset|timeout' /tmp/bench.lines)"
	fi
	# redis-cli returns only once the exiting guest closed the connection.
	timeout 120 redis-cli -h $GUEST -p 6379 SHUTDOWN NOSAVE
	st=$?
	end=$(($(now) + 120))
	while [ "$(now)" -lt "$end" ] && kill -0 $vpid 2>/dev/null; do sleep 0.5; done
	if kill -0 $vpid 2>/dev/null; then
		vmm_end TERM
		fail redis-shutdown "still running 120 s after SHUTDOWN (redis-cli $st)"
	else
		vmm_end
		if [ "$vst" = 0 ] && [ $st != 143 ] && [ $st != 124 ] && grep -q 'ready to exit, bye bye' /tmp/redis.out; then
			ok redis-shutdown
		else
			fail redis-shutdown "status $vst (want 0), redis-cli $st, or no goodbye line"
		fi
	fi
else
	fail redis-start "no PONG within 120 s"
	vmm_end TERM
fi
console redis

# 3. python3 -m http.server --------------------------------------------------------

URL=http://$GUEST:8000
vmm_bg py $d/python.cpio 256 ""
if wait_http "$URL/index.html" 300; then
	ok py-start
	http_cases py "$URL" $d/python/site sub/data.bin 8
else
	fail py-start "no answer within 300 s"
fi
vmm_end TERM
console py
if [ "$vst" = 143 ] && ! complaint /tmp/py.out &&
	! grep -q "can't start new thread" /tmp/py.out &&
	[ "$(count /tmp/py.out '"GET /sub/data.bin HTTP/1.1" 200 -$')" = 9 ]; then
	ok py-stop
else
	fail py-stop "status $vst (want 143), not 9 requests logged, or a complaint"
fi

# 4. Go net/http ---------------------------------------------------------------------

URL=http://$GUEST:8080
vmm_bg go $d/go.cpio 256 ""
if vmm_wait_line '^go-httpd: serving' 120 && wait_http "$URL/" 60; then
	ok go-start
	n=$(par_get 20 "$URL/sum?n=1000" /tmp/gosum)
	good=$(cat /tmp/gosum/[0-9]* | grep -c -x 499500)
	if [ "$n" = 20 ] && [ "$good" = 20 ]; then
		ok go-clients; else fail go-clients "$n of 20 curls ok, $good answers 499500"; fi
	n=$(par_get 10 "$URL/sleep" /tmp/gosleep)
	good=$(cat /tmp/gosleep/[0-9]* | grep -c -x slept)
	if [ "$n" = 10 ] && [ "$good" = 10 ]; then
		ok go-sleep; else fail go-sleep "$n of 10 curls ok, $good answers 'slept'"; fi
else
	fail go-start "no answer within 180 s"
fi
vmm_end TERM
console go
if [ "$vst" = 143 ] && ! complaint /tmp/go.out; then
	ok go-stop; else fail go-stop "status $vst (want 143), or a kernel complaint"; fi
