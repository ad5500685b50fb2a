#!/bin/sh
# Install every Debian package kiln needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so re-running is cheap.
set -eu

PKGS="build-essential musl-tools qemu-system-x86 cpio file binutils
      hyperfine python3 iproute2 procps
      python3-matplotlib clang-format git strace curl zstd
      pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3
      libcurl4-openssl-dev libnl-3-dev libnl-route-3-dev libarchive-dev
      libssl-dev wrk iperf3
      redis-server redis-tools nginx-light golang-go"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
sh "$(dirname "$0")/lwip.sh"
