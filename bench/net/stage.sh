#!/bin/sh
# Stages what bench/net/guest.sh needs into DIR, for bench/net_nested.sh
# (DIR goes into the nested guest as /k) and bench/net.sh (run in place):
# the files served (bench/net/files.sh), blast (static musl), kiln-vmm,
# kiln.elf, httpd, the two rootfs from `kiln pack`, guest.sh (and
# bench/lib/guest.sh as lib.sh), and
# config.sh from the environment: CONFS, RUNS, DUR, CONNS, BULK_MIB, MEM,
# QEMU_ACCEL, IP, VMM_FLAGS, MOUNT_DEBUGFS (guest.sh's header says what
# they mean).  Run from the repository's root after make.
# Usage: bench/net/stage.sh DIR
set -eu
K=$1
mkdir -p "$K/srv"
sh bench/net/files.sh "$K/srv"
musl-gcc -static -std=c11 -O2 -Wall -Wextra -Werror -o "$K/blast" bench/net/blast.c
cp build/kiln-vmm.static "$K/kiln-vmm"
cp build/kiln.elf examples/httpd "$K/"
cp bench/net/guest.sh "$K/guest.sh"
cp bench/lib/guest.sh "$K/lib.sh"
build/kiln pack -o "$K/httpd.cpio" --file "$K/srv/index.html:/srv/index.html" \
	--file "$K/srv/1m.bin:/srv/1m.bin" examples/httpd -q -r /srv -p 8080
build/kiln pack -o "$K/blast.cpio" "$K/blast" serve 9000
{
	echo "CONFS='$CONFS'"
	echo "RUNS=$RUNS"
	echo "DUR=$DUR"
	echo "CONNS=$CONNS"
	echo "DUR_1M=$((DUR * 2))"
	echo "CONNS_1M=1"
	echo "BULK=$((BULK_MIB * 1048576))"
	echo "MEM=$MEM"
	echo "QEMU_ACCEL=$QEMU_ACCEL"
	echo "IP=$IP"
	echo "VMM_FLAGS='$VMM_FLAGS'"
	echo "MOUNT_DEBUGFS=$MOUNT_DEBUGFS"
} >"$K/config.sh"
