#!/bin/sh
# The files the network benchmarks serve, into DIR: index.html, a page of
# exactly 612 bytes (the size of nginx's default page, the usual "small
# page" of web server benchmarks), and 1m.bin, 1 MiB of random bytes.
# Usage: bench/net/files.sh DIR
set -eu
mkdir -p "$1"
head='<!DOCTYPE html>
<html>
<head>
<title>Welcome to kiln</title>
</head>
<body>
<h1>Welcome to kiln</h1>
<p>This page is served by examples/httpd, on kiln-vmm, on QEMU microvm
or as a plain process, for the network benchmark (bench/net_nested.sh).</p>
<!-- '
tail=' -->
</body>
</html>
'
pad=$((612 - ${#head} - ${#tail}))
{
	printf '%s' "$head"
	head -c "$pad" /dev/zero | tr '\0' '.'
	printf '%s' "$tail"
} >"$1/index.html"
[ "$(wc -c <"$1/index.html")" = 612 ] || {
	echo "files.sh: index.html is not 612 bytes" >&2
	exit 1
}
head -c 1048576 /dev/urandom >"$1/1m.bin"
