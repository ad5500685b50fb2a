#!/bin/sh
# 50 concurrent `kiln run -d` requests against one kilnd: every one
# succeeds, with 50 distinct names and 50 distinct addresses, and every
# instance answers HTTP on its address (inside this scenario's network
# namespace).  Then one `kiln rm -f` of all 50 leaves no tap, lease,
# process or file.  No timing is asserted; bench/daemon.sh measures it.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

N=50
SITE=$KILN_TEST_TMP/site
mkdir -p "$SITE"
printf 'kiln scale test\n' >"$SITE/index.html"

kd_start || exit 0

check_begin "build the web image"
kd_build web:1 --file "$SITE/index.html:/srv/index.html" examples/httpd -r /srv
check_end

check_begin "$N concurrent runs all succeed, with distinct names and addresses"
i=1
jobs=""
while [ "$i" -le "$N" ]; do
	(KILN_NO_AUTOSTART=1 timeout 300 "$KILN" -H "$KD_SOCK" run -d -m 24M web:1 \
		>"$KILN_TEST_TMP/run.$i.out" 2>&1
	echo $? >"$KILN_TEST_TMP/run.$i.st") &
	jobs="$jobs $!"
	i=$((i + 1))
done
# Not a bare `wait`: kilnd is a child of this shell too.
for j in $jobs; do
	wait "$j"
done
i=1
bad=0
while [ "$i" -le "$N" ]; do
	st=$(cat "$KILN_TEST_TMP/run.$i.st")
	if [ "$st" -ne 0 ]; then
		bad=$((bad + 1))
		cat "$KILN_TEST_TMP/run.$i.out" >>"$CHECK_LOG"
	fi
	i=$((i + 1))
done
[ "$bad" -eq 0 ] || fail_because "$bad of $N runs failed"
k ps
want_count '^web-[0-9a-f]+ +web:1 +running +10\.88\.' "$N"
names=$(awk 'NR > 1 { print $1 }' "$KOUT" | sort -u | wc -l)
addrs=$(awk 'NR > 1 { print $4 }' "$KOUT" | sort -u | wc -l)
[ "$names" -eq "$N" ] || fail_because "$names distinct names, want $N"
[ "$addrs" -eq "$N" ] || fail_because "$addrs distinct addresses, want $N"
awk 'NR > 1 { print $4 }' "$KOUT" >"$KILN_TEST_TMP/addrs"
check_end

check_begin "each of the $N answers HTTP on its own address"
dead=""
while read -r addr; do
	end=$(($(date +%s) + 120))
	until ip netns exec "$KD_NS" curl -s -m 10 -o "$KILN_TEST_TMP/got" "http://$addr:8080/" &&
		cmp -s "$SITE/index.html" "$KILN_TEST_TMP/got"; do
		[ "$(date +%s)" -ge "$end" ] && {
			dead="$dead $addr"
			break
		}
		sleep 0.5
	done
done <"$KILN_TEST_TMP/addrs"
[ -z "$dead" ] || fail_because "no answer from$dead"
check_end

check_begin "rm -f of all $N: no tap, lease, process or file left"
k rm -f $(kq ps -aq)
want_status 0
[ "$(kd_sql 'SELECT count(*) FROM leases')" = 0 ] || fail_because "leases left"
[ -z "$(ip -n "$KD_NS" -o link show | grep ': kt')" ] || fail_because "taps left"
[ -z "$(kd_procs)" ] || fail_because "processes left"
[ -z "$(ls "$KD_STATE/instances")" ] || fail_because "instance files left"
check_end
