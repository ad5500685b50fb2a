#!/bin/sh
# Runs every benchmark (bench/*.sh other than this file); `make bench` calls
# it after building.  Benchmarks write their tables to docs/ and are never
# part of the tests.  bench/boot_nested.sh (kiln-vmm vs QEMU inside nested
# KVM) runs first, because bench/boot.sh's page quotes the nested page's
# summary; the rest run in name order (bench/net.sh and
# bench/net_nested.sh both write docs/bench-net.md, each with the other's
# last raw log).
set -u
cd "$(dirname "$0")/.." || exit 2
failed=0
ran=""
for b in bench/boot_nested.sh bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	case " $ran " in *" $b "*) continue ;; esac
	ran="$ran $b"
	echo "== $b"
	sh "$b" || { echo "bench: $b failed (status $?)"; failed=1; }
done
exit $failed
