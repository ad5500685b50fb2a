#!/bin/sh
# Bad input to kilnd and to the kiln commands that talk to it: each is one
# clear error with the right status (HTTP status on the API; 1 when kilnd
# refused, 125 for kiln's own errors), and kilnd keeps serving: after
# every case an instance still starts.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

kd_start --max-upload 3M || exit 0

# api METHOD PATH [CURL ARGS...]: a raw request; status in $KST, body in
# $KOUT.
api() {
	m=$1
	p=$2
	shift 2
	echo "\$ curl -X $m $p $*" >>"$CHECK_LOG"
	KST=$(curl -s -o "$KOUT" -w '%{http_code}' --unix-socket "$KD_SOCK" \
		-X "$m" "$@" "http://kilnd$p")
	{
		echo "HTTP $KST"
		cat "$KOUT"
		echo
	} >>"$CHECK_LOG"
}

# want_api STATUS REGEX: the answer's status, and a JSON {"message"}
# matching REGEX.
want_api() {
	[ "$KST" = "$1" ] || fail_because "HTTP $KST, want $1"
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["message"]; assert m' \
		"$KOUT" 2>/dev/null || fail_because "answer is not {\"message\": ...}: $(head -c 200 "$KOUT")"
	grep -q -E -e "$2" "$KOUT" || fail_because "message does not match '$2': $(head -c 200 "$KOUT")"
}

# still_serving: kilnd answers and starts an instance.
still_serving() {
	n=alive-$(date +%s%N)
	if ! kq run -d --name "$n" hello:1 >/dev/null; then
		fail_because "kilnd no longer starts instances"
	fi
	kq rm -f "$n" >/dev/null
}

check_begin "setup: images"
kd_build hello:1 examples/hello
kd_build sleep:1 /bin/sleep 1000
kd_build small:1 "$GUEST/static/exit_code" 0
check_end

check_begin "unknown image"
k run -d nosuch:1
want_status 1
want_one_error "no such image 'nosuch:1' \(see 'kiln images'\)"
k run -d --image web
want_status 1
want_one_error "no such image 'web'"
still_serving
check_end

check_begin "duplicate name"
k run -d --name dup sleep:1
want_status 0
k run -d --name dup hello:1
want_status 1
want_one_error "the name 'dup' is already used by instance [0-9a-f]{12}"
[ "$(kd_state dup)" = running ] || fail_because "the first 'dup' was disturbed"
still_serving
check_end

check_begin "invalid names and policies"
k run -d --name 'bad name' hello:1
want_status 1
want_one_error "invalid instance name 'bad name'"
k run -d --restart sometimes hello:1
want_status 1
want_one_error "invalid restart policy 'sometimes' \(use no, on-failure, on-failure:N or always\)"
k run -d --restart on-failure:0 hello:1
want_status 1
want_one_error "invalid restart policy"
still_serving
check_end

check_begin "invalid memory"
k run -d -m abc hello:1
want_status 125
want_one_error "invalid memory size 'abc'"
k run -d -m 1M hello:1
want_status 125
want_one_error "outside 2M to 3G"
k run -d -m 4M sleep:1
want_status 1
want_one_error "not enough guest memory: image 'sleep:1' needs at least [0-9]+ MiB but memory_mib is 4"
api POST /v1/instances -H 'Content-Type: application/json' \
	-d '{"image":"hello:1","memory_mib":5000}'
want_api 400 'invalid memory_mib value: want a whole number of MiB from 2 to 3072'
api POST /v1/instances -H 'Content-Type: application/json' \
	-d '{"image":"hello:1","memory_mib":"64M"}'
want_api 400 'invalid memory_mib type'
still_serving
check_end

check_begin "removing an image in use"
k rmi sleep:1
want_status 1
want_one_error "image 'sleep:1' is used by running instance 'dup' \(stop and remove it first\)"
k rmi -f sleep:1
want_status 1
want_one_error "used by running instance 'dup'"
k stop dup
k rmi sleep:1
want_status 1
want_one_error "image 'sleep:1' is used by instance 'dup' \(remove it first, or use 'kiln rmi -f'\)"
k images
want_out '^sleep +1 '
k rmi -f sleep:1
want_status 0
want_out '^deleted: sha256:'
k start dup
want_status 1
want_one_error "no longer in the store"
k rm dup
want_status 0
still_serving
check_end

check_begin "malformed JSON, wrong types, unknown fields (curl)"
api POST /v1/instances -H 'Content-Type: application/json' -d '{"image": "hello:1",'
want_api 400 '^\{"message":"malformed JSON in the request body: .*\(line 1, column [0-9]+\)"\}$'
api POST /v1/instances -H 'Content-Type: application/json' -d '["hello:1"]'
want_api 400 'must be a JSON object'
api POST /v1/instances -H 'Content-Type: application/json' -d '{"image":"hello:1","colour":"red"}'
want_api 400 "unknown field 'colour'"
api POST /v1/instances -H 'Content-Type: application/json' -d '{"name":"x"}'
want_api 400 "missing 'image'"
api POST /v1/instances -H 'Content-Type: application/json' -d '{"image":"hello:1","env":["NOEQUALS"]}'
want_api 400 "invalid environment entry 'NOEQUALS'"
api POST /v1/instances -d '{"image":"hello:1"}'
want_api 415 "content type 'application/x-www-form-urlencoded' is not accepted here: send application/json"
still_serving
check_end

check_begin "oversized bodies: 413"
head -c 100000 /dev/zero | tr '\0' ' ' >"$KILN_TEST_TMP/big.json"
api POST /v1/instances -H 'Content-Type: application/json' --data-binary "@$KILN_TEST_TMP/big.json"
want_api 413 'too large \(at most 65536 bytes of JSON\)'
head -c 4000000 /dev/urandom >"$KILN_TEST_TMP/big.tar"
api POST /v1/images/load -H 'Content-Type: application/x-tar' --data-binary "@$KILN_TEST_TMP/big.tar"
want_api 413 'upload of 4000000 bytes is too large \(at most 3145728 bytes; see kilnd --max-upload\)'
# Chunked, so the size is only known while it streams.
api POST /v1/images/load -H 'Content-Type: application/x-tar' -H 'Transfer-Encoding: chunked' --data-binary "@$KILN_TEST_TMP/big.tar"
want_api 413 'upload is too large'
[ -z "$(ls "$KD_STATE/tmp")" ] || fail_because "upload left in tmp/: $(ls "$KD_STATE/tmp")"
still_serving
check_end

check_begin "bad archives: 400, nothing stored"
blobs_before=$(ls "$KD_STATE/blobs/sha256" | wc -l)
head -c 5000 /dev/urandom >"$KILN_TEST_TMP/junk.tar"
k load -i "$KILN_TEST_TMP/junk.tar"
want_status 1
want_one_error "kiln: .+"
head -c 20000 "$KD_IMAGES/hello_1.tar" >"$KILN_TEST_TMP/cut.tar"
k load -i "$KILN_TEST_TMP/cut.tar"
want_status 1
: >"$KILN_TEST_TMP/empty.tar"
k load -i "$KILN_TEST_TMP/empty.tar"
want_status 1
want_one_error "empty upload"
[ "$(ls "$KD_STATE/blobs/sha256" | wc -l)" -eq "$blobs_before" ] ||
	fail_because "blobs changed: $blobs_before -> $(ls "$KD_STATE/blobs/sha256" | wc -l)"
still_serving
check_end

check_begin "unknown routes and methods"
api GET /v1/nothing
want_api 404 '^\{"message":"no such route: GET /v1/nothing \(see docs/api.md\)"\}$'
api GET /v2/instances
want_api 404 'no such route'
api DELETE /v1/instances
want_api 405 "method DELETE is not allowed on '/v1/instances' \(allowed: GET, POST\)"
api PUT /v1/images/hello:1
want_api 405 'allowed: GET, DELETE'
api GET '/v1/instances/%zz'
want_api 400 'malformed %-escape'
still_serving
check_end

check_begin "unknown instances and bad values on the lifecycle routes"
for c in logs start stop restart kill rm inspect; do
	k "$c" ghost
	want_status 1
	want_one_error "no such (instance|instance or image) 'ghost'"
done
k stop -t abc ghost
want_status 125
want_one_error "invalid time 'abc'"
api POST '/v1/instances/ghost/stop?timeout=-1'
want_api 400 "invalid timeout '-1'"
api GET '/v1/instances?all=maybe'
want_api 400 "invalid value 'maybe' for 'all'"
k kill -s BOGUS ghost
want_status 1
want_one_error "unknown signal 'BOGUS' \(use KILL, TERM, INT, HUP, QUIT, USR1 or USR2\)"
k logs --tail x ghost
want_status 125
want_one_error "invalid --tail 'x'"
still_serving
check_end

check_begin "usage errors of the commands: 125, kilnd untouched"
k ps extra
want_status 125
want_one_error "'kiln ps' takes no arguments"
k logs
want_status 125
want_one_error "'kiln logs' needs one instance"
k rm --bogus x
want_status 125
want_one_error "unknown option '--bogus' \(see 'kiln rm --help'\)"
k run -d --file /etc/hosts:/x hello:1
want_status 125
want_one_error "option '--file' is for 'kiln run PROGRAM'"
k run -d hello:1 extra-arg
want_status 125
want_one_error "takes no program arguments"
k network frob
want_status 125
want_one_error "unknown network command 'frob'"
still_serving
check_end

check_begin "no kilnd: one clear error, status 125, nothing started"
run_logged 30 env KILN_NO_AUTOSTART=1 "$KILN" -H "$KILN_TEST_TMP/none.sock" ps
want_status 125
want_one_error "cannot reach kilnd at '.*none.sock' \(is it running\? start it with 'kilnd', or set -H/\\\$KILN_HOST\)"
[ ! -e "$KILN_TEST_TMP/none.sock" ] || fail_because "a kilnd was started"
check_end
