#!/bin/sh
# Debian programs under kiln run: image size and wall time, median of N
# runs, for the cases docs/apps.md reports.  Times are `kiln run` end to
# end (pack, boot, run, exit) on the default hypervisor (kiln-vmm with
# /dev/kvm, else QEMU/TCG), and for nginx the time from `kiln run` to its
# first HTTP 200 (in a network namespace this script creates; needs
# root).  Prints a Markdown table; nothing is written.
#
# Usage: bench/apps.sh [RUNS]   (default 7)
set -u
cd "$(dirname "$0")/.." || exit 2
RUNS=${1:-7}
KILN=build/kiln
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-apps.XXXXXX")
NS=kilnbench-apps-$$
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT

[ -x "$KILN" ] || {
	echo "bench: $KILN not built (run make)" >&2
	exit 2
}

now_ms() {
	date +%s%3N
}

# median of the numbers on stdin
median() {
	sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# row NAME ARGS...: image size and median wall time of `kiln run ARGS`.
row() {
	name=$1
	shift
	"$KILN" run --keep-rootfs "$T/img" "$@" >/dev/null 2>&1
	size=$(stat -c %s "$T/img")
	for _ in $(seq "$RUNS"); do
		t0=$(now_ms)
		"$KILN" run "$@" >/dev/null 2>&1
		echo $(($(now_ms) - t0))
	done >"$T/times"
	printf '| %s | %.1f MiB | %s ms |\n' "$name" \
		"$(echo "$size" | awk '{print $1 / 1048576}')" "$(median <"$T/times")"
}

# The standard library as tests/e2e/app_python.sh trims it.
LIB=$T/python3.11
cp -al /usr/lib/python3.11 "$LIB" 2>/dev/null || cp -a /usr/lib/python3.11 "$LIB"
for d in config-3.11-x86_64-linux-gnu test tkinter idlelib lib2to3 \
	pydoc_data ensurepip distutils dist-packages turtledemo; do
	rm -rf "${LIB:?}/$d"
done

echo "| case | image | median wall time ($RUNS runs) |"
echo "|---|---|---|"
row "/bin/true (reference)" /bin/true
row "sqlite3: create, insert, select on /tmp/db" /usr/bin/sqlite3 /tmp/db \
	'create table t(x); insert into t values(1),(2); select * from t;'
row "python3 -c (whole /usr/lib/python3.11)" -m 256M \
	--dir /usr/lib/python3.11:/usr/lib/python3.11 /usr/bin/python3 -c 'print(45)'
row "python3 -c (trimmed standard library)" -m 128M \
	--dir "$LIB:/usr/lib/python3.11" /usr/bin/python3 -c 'print(45)'

# nginx: time to the first 200.
if ip netns add "$NS" 2>/dev/null &&
	ip -n "$NS" tuntap add dev kbtap0 mode tap &&
	ip -n "$NS" addr add 10.0.6.1/24 dev kbtap0 &&
	ip -n "$NS" link set kbtap0 up; then
	mkdir -p "$T/empty" "$T/site"
	cp tests/apps/nginx/site/index.html "$T/site/"
	set -- --hypervisor qemu --net kbtap0 --ip 10.0.6.2/24 \
		--file tests/apps/nginx/nginx.conf:/etc/nginx/nginx.conf \
		--file /etc/nginx/mime.types:/etc/nginx/mime.types \
		--file tests/apps/nginx/passwd:/etc/passwd \
		--file tests/apps/nginx/group:/etc/group \
		--dir "$T/empty:/var/log/nginx" --dir "$T/empty:/var/lib/nginx" \
		--dir "$T/site:/srv" /usr/sbin/nginx -g 'daemon off; master_process off;'
	for _ in $(seq "$RUNS"); do
		t0=$(now_ms)
		ip netns exec "$NS" "$KILN" run "$@" >/dev/null 2>&1 &
		pid=$!
		n=0
		until ip netns exec "$NS" curl -s -m 1 -o /dev/null \
			http://10.0.6.2:8080/ || [ $n -ge 3000 ]; do
			sleep 0.01
			n=$((n + 1))
		done
		echo $(($(now_ms) - t0))
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
	done >"$T/times"
	"$KILN" run --keep-rootfs "$T/img" "$@" >/dev/null 2>&1 &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	printf '| nginx: kiln run to the first HTTP 200 | %.1f MiB | %s ms |\n' \
		"$(stat -c %s "$T/img" | awk '{print $1 / 1048576}')" \
		"$(median <"$T/times")"
else
	echo "| nginx | (needs root for a network namespace) | |"
fi
