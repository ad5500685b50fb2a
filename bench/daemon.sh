#!/bin/sh
# kilnd benchmark: `kiln run -d` to the first HTTP 200, 100 instances
# (wall time, host memory per idle instance), for each hypervisor this
# machine can run.  Runs bench/daemon.py inside a network namespace made
# here and removed at exit, with a kilnd of its own.  Writes
# docs/bench-daemon.md.  Options are daemon.py's: --runs N (default 10),
# --instances N (default 100).
set -u
cd "$(dirname "$0")/.." || exit 2
for f in build/kiln build/kilnd build/kiln.elf examples/httpd; do
	[ -e "$f" ] || { echo "bench/daemon.sh: $f missing (run make)" >&2; exit 2; }
done
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
NS=kilnbench-$$
ip netns add "$NS" || { echo "bench/daemon.sh: cannot create a network namespace (need root)" >&2; exit 2; }
trap 'ip netns del "$NS" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
ip -n "$NS" link set lo up
ip netns exec "$NS" "$PY" bench/daemon.py "$@"
