#!/bin/sh
# Fetches lwIP's source from Debian's archive (the lwip source package) and
# unpacks the upstream tarball into build/lwip/, where kernel/kernel.mk
# compiles it freestanding into the kernel.  The source is never committed.
#
# Idempotent: once build/lwip holds lwIP's sources nothing is done, and a
# tarball already downloaded (build/lwip-dl) is not fetched again.
# Debian ships lwIP only as a hosted library, so the source package is the
# way in: this adds deb-src to the Types: lines of the deb822 sources file
# if it is missing, runs apt-get update once and `apt-get source
# --download-only lwip` (as PLATFORM.md describes).
#
# Usage: scripts/lwip.sh [DIR]   (default build/lwip)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/build/lwip}
SOURCES=/etc/apt/sources.list.d/debian.sources

if [ -d "$DEST/src/core/ipv4" ] && [ -f "$DEST/src/include/lwip/init.h" ]; then
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# The upstream tarball in the download directory, or "" if none.
find_tarball() {
	for t in "$dl"/lwip_*.orig.tar.*; do
		[ -f "$t" ] && echo "$t" && return 0
	done
	echo ""
}

dl="$ROOT/build/lwip-dl"
mkdir -p "$dl"
tarball=$(find_tarball)
if [ -z "$tarball" ]; then
	echo "lwip: fetching Debian's lwip source package"
	if [ -f "$SOURCES" ] && ! grep -q '^Types:.*deb-src' "$SOURCES"; then
		$SUDO sed -i 's/^Types: *deb *$/Types: deb deb-src/' "$SOURCES"
	elif [ ! -f "$SOURCES" ] && [ -f /etc/apt/sources.list ] &&
		! grep -q '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; then
		# One-line format (older installs, some cloud images): a
		# deb-src twin of each deb line, in a file of our own.
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list |
			$SUDO tee /etc/apt/sources.list.d/kiln-deb-src.list >/dev/null
	fi
	$SUDO apt-get update -qq
	# The download directory is ours, not apt's: download as ourselves
	# instead of as _apt (which warns when it cannot write there).
	(cd "$dl" && apt-get source -qq -o APT::Sandbox::User="$(id -un)" \
		--download-only lwip >/dev/null)
	tarball=$(find_tarball)
	if [ -z "$tarball" ]; then
		echo "lwip: 'apt-get source --download-only lwip' gave no" \
			"lwip_*.orig.tar.* in '$dl'" >&2
		exit 1
	fi
fi

# Unpack into a scratch directory and move it in place only when complete,
# so an interrupted run never leaves a half tree that looks finished.
tmp="$DEST.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
tar -xf "$tarball" -C "$tmp"
top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
if [ -z "$top" ] || [ ! -d "$top/src/core/ipv4" ]; then
	rm -rf "$tmp"
	echo "lwip: '$tarball' has no src/core/ipv4; not an lwIP tarball?" >&2
	exit 1
fi
rm -rf "$DEST"
mv "$top" "$DEST"
rm -rf "$tmp"
echo "lwip: $(basename "$tarball") unpacked in '${DEST#"$ROOT"/}'"
