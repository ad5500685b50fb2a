#!/bin/sh
# Runs every benchmark (bench/*.sh other than this file), in name order;
# `make bench` calls it after building.  Benchmarks write their tables to
# docs/ and are never part of the tests.
set -u
cd "$(dirname "$0")/.." || exit 2
failed=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "== $b"
	sh "$b" || { echo "bench: $b failed (status $?)"; failed=1; }
done
exit $failed
