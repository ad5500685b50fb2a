# How the app scenarios pack Debian's programs: one place for the options
# that tests/e2e/app_nginx.sh and app_python.sh use on QEMU (`kiln run`)
# and tests/e2e/vmm_apps.sh uses on kiln-vmm (`kiln pack`, then kiln-vmm
# in a nested-KVM guest), so that both run the same programs the same
# way.  POSIX sh, sourced after tests/lib.sh.  The option variables hold
# paths under $KILN_TEST_TMP or the repository (no spaces) and are
# expanded unquoted, as words.
# shellcheck disable=SC2034 # the variables are for the scenarios

APPS_NGINX=/usr/sbin/nginx
# nginx as one process in the foreground (its -g argument, one word).
APPS_NGINX_G='daemon off; master_process off;'
APPS_PY=/usr/bin/python3
APPS_PY_STDLIB=/usr/lib/python3.11
APPS_REDIS=/usr/bin/redis-server

# apps_nginx_prepare DIR: the site in DIR/site (tests/apps/nginx's page, a
# stylesheet, big.bin: 1 MiB of random bytes), an empty DIR/empty for the
# logs and temporary files; APPS_NGINX_OPTS: the options packing them
# with tests/apps/nginx/nginx.conf, Debian's mime.types and the passwd
# and group files nginx needs to find "nobody".
apps_nginx_prepare() {
	mkdir -p "$1/site" "$1/empty"
	cp tests/apps/nginx/site/index.html "$1/site/"
	printf 'body { color: #333; }\n' >"$1/site/style.css"
	head -c 1048576 /dev/urandom >"$1/site/big.bin"
	APPS_NGINX_OPTS="--file tests/apps/nginx/nginx.conf:/etc/nginx/nginx.conf \
		--file /etc/nginx/mime.types:/etc/nginx/mime.types \
		--file tests/apps/nginx/passwd:/etc/passwd \
		--file tests/apps/nginx/group:/etc/group \
		--dir $1/empty:/var/log/nginx --dir $1/empty:/var/lib/nginx \
		--dir $1/site:/srv"
}

# apps_python_prepare DIR: a copy of the standard library in DIR without
# what a server never imports (the 24 MiB static libpython for embedding,
# tests, tkinter, idle, lib2to3, distutils; docs/apps.md): hard links when
# /usr and DIR share a filesystem, else a copy.  APPS_PY_OPTS: the option
# packing it in the standard library's place.
apps_python_prepare() {
	cp -al "$APPS_PY_STDLIB" "$1" 2>/dev/null || cp -a "$APPS_PY_STDLIB" "$1"
	for d in config-3.11-x86_64-linux-gnu test tkinter idlelib lib2to3 \
		pydoc_data ensurepip distutils dist-packages turtledemo; do
		rm -rf "${1:?}/$d"
	done
	APPS_PY_OPTS="--dir $1:$APPS_PY_STDLIB"
}

# apps_python_site DIR: what http.server serves in the tests: DIR/index.html
# and DIR/sub/data.bin, 1 MiB of random bytes.
apps_python_site() {
	mkdir -p "$1/sub"
	printf '<!DOCTYPE html>\n<title>python on kiln</title>\n<p>served by http.server</p>\n' \
		>"$1/index.html"
	head -c 1048576 /dev/urandom >"$1/sub/data.bin"
}
