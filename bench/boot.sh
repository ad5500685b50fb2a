#!/bin/sh
# Boot benchmark: exec to main and to exit for static and dynamic hello on
# kiln-vmm (when /dev/kvm exists), QEMU microvm and the host; smallest
# memory; image sizes.  Writes docs/bench-boot.md and docs/bench-boot.png.
# Needs a build (make, or make bench which builds first).  Options are
# bench/boot.py's: --runs N (default 30), --no-memory.
set -eu
cd "$(dirname "$0")/.."
# Debian's python3 (matplotlib comes from apt's python3-matplotlib), not
# whatever python3 comes first in PATH.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
exec "$PY" bench/boot.py "$@"
