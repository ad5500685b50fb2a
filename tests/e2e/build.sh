#!/bin/sh
# kiln build -o: the image archive of examples/httpd with a site directory
# (ID printed, the same ID and bytes twice, the tar listing, manifest,
# config and rootfs as docs/image-format.md says), a Kilnfile giving the
# same image as the same options, the rootfs equal to kiln pack's, a built
# image's kernel and rootfs booting on QEMU, and bad inputs: each one clear
# line, status 125 (126/127 for the program), no output file left behind
# and an older file at -o untouched; a full disk at -o too.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

T=$KILN_TEST_TMP
HTTPD=$KILN_ROOT/examples/httpd
ID_RE='^sha256:[0-9a-f]{64}$'

# kbuild ARGS...: `kiln build ARGS` for a check (see krun).
kbuild() {
	echo "\$ kiln build $*" >>"$CHECK_LOG"
	run_logged 120 "$KILN" build "$@"
}

# want_no_leftover DIR: no archive or temp file from a failed build.
want_no_leftover() {
	left=$(find "$1" -maxdepth 1 -name '*.tar*' ! -name old.tar | head -n 3)
	[ -z "$left" ] || fail_because "files left behind: $left"
}

mkdir -p "$T/site/sub" "$T/outdir"
printf '<h1>kiln</h1>\n' >"$T/site/index.html"
printf 'deeper\n' >"$T/site/sub/page.html"
ln -s index.html "$T/site/home.html"

check_begin "build -o writes an archive and prints the image ID"
need_file "$HTTPD"
kbuild -o "$T/web.tar" -t web:1 --dir "$T/site:/srv" --expose 8080 \
	"$HTTPD" -r /srv -p 8080
want_status 0
if ! { [ "$(wc -l <"$KOUT")" -eq 1 ] && grep -q -E "$ID_RE" "$KOUT"; }; then
	fail_because "stdout is not one image ID line"
fi
grep -q -x "kiln: wrote image archive '$T/web.tar', tagged web:1" "$KERR" ||
	fail_because "no 'wrote image archive ... tagged web:1' on stderr"
[ -s "$T/web.tar" ] || fail_because "no archive at -o"
ID=$(cat "$KOUT")
check_end

check_begin "the same inputs give the same image ID and the same bytes"
kbuild -o "$T/web2.tar" -t web:1 --dir "$T/site:/srv" --expose 8080 \
	"$HTTPD" -r /srv -p 8080
want_status 0
[ "$(cat "$KOUT")" = "$ID" ] || fail_because "ID $(cat "$KOUT"), first $ID"
cmp -s "$T/web.tar" "$T/web2.tar" || fail_because "the archives differ"
check_end

check_begin "the archive lists as documented: manifest, tags, three blobs"
tar -tvf "$T/web.tar" >"$T/list" 2>>"$CHECK_LOG" ||
	fail_because "GNU tar cannot list it"
cat "$T/list" >>"$CHECK_LOG"
[ "$(wc -l <"$T/list")" -eq 5 ] || fail_because "$(wc -l <"$T/list") members, want 5"
awk '{print $1, $2, $4, $5}' "$T/list" | sort -u >"$T/modes"
[ "$(cat "$T/modes")" = "-rw-r--r-- 0/0 1970-01-01 00:00" ] ||
	fail_because "members are not 0644 root with mtime 0: $(cat "$T/modes")"
awk '{print $6}' "$T/list" >"$T/names"
[ "$(sed -n 1p "$T/names")" = manifest.json ] || fail_because "manifest.json is not first"
[ "$(sed -n 2p "$T/names")" = tags.json ] || fail_because "tags.json is not second"
sed -n '3,5p' "$T/names" >"$T/blobs"
grep -c -E '^blobs/sha256/[0-9a-f]{64}$' "$T/blobs" | grep -q -x 3 ||
	fail_because "three blobs/sha256/<hex> members expected"
sort -c "$T/blobs" 2>/dev/null || fail_because "blobs are not sorted"
while read -r b; do
	sum=$(tar -xOf "$T/web.tar" "$b" | sha256sum | cut -d' ' -f1)
	[ "blobs/sha256/$sum" = "$b" ] || fail_because "$b holds data with digest $sum"
done <"$T/blobs"
[ "$(tar -xOf "$T/web.tar" tags.json)" = '["web:1"]' ] ||
	fail_because "tags.json is '$(tar -xOf "$T/web.tar" tags.json)'"
check_end

check_begin "the image ID is the SHA-256 of manifest.json, which names the blobs"
tar -xOf "$T/web.tar" manifest.json >"$T/manifest.json"
cat "$T/manifest.json" >>"$CHECK_LOG"
[ "sha256:$(sha256sum <"$T/manifest.json" | cut -d' ' -f1)" = "$ID" ] ||
	fail_because "sha256(manifest.json) is not the printed ID"
python3 - "$T/manifest.json" "$T/blobs" "$T/web.tar" >>"$CHECK_LOG" 2>&1 <<'EOF' ||
import json, sys, tarfile
raw = open(sys.argv[1]).read()
m = json.loads(raw)
assert raw == json.dumps(m, sort_keys=True, separators=(",", ":")), "not canonical"
assert m["schema"] == 1 and sorted(m) == ["config", "kernel", "rootfs", "schema"]
names = set(open(sys.argv[2]).read().split())
t = tarfile.open(sys.argv[3])
for role in ("kernel", "rootfs", "config"):
    d = m[role]["digest"]
    member = "blobs/sha256/" + d[len("sha256:"):]
    assert member in names, role + " blob missing"
    assert t.getmember(member).size == m[role]["size"], role + " size"
EOF
	fail_because "manifest.json does not describe the blobs (see log)"
check_end

config_blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"][7:])' "$T/manifest.json" 2>/dev/null)
rootfs_blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootfs"]["digest"][7:])' "$T/manifest.json" 2>/dev/null)
kernel_blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel"]["digest"][7:])' "$T/manifest.json" 2>/dev/null)

check_begin "the config blob is compact JSON with sorted keys"
got=$(tar -xOf "$T/web.tar" "blobs/sha256/$config_blob")
want='{"args":["'$HTTPD'","-r","/srv","-p","8080"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","HOME=/"],"exe":"'$HTTPD'","memory_mib":0,"ports":["8080/tcp"],"workdir":"/"}'
[ "$got" = "$want" ] || fail_because "config is '$got'"
check_end

check_begin "the kernel blob is kiln.elf and the rootfs carries the site"
tar -xOf "$T/web.tar" "blobs/sha256/$kernel_blob" | cmp -s - build/kiln.elf ||
	fail_because "the kernel blob is not build/kiln.elf"
tar -xOf "$T/web.tar" "blobs/sha256/$rootfs_blob" >"$T/rootfs.cpio"
cpio -itv <"$T/rootfs.cpio" 2>/dev/null | awk '{print $1, $9, $10, $11}' >"$T/cpio"
cat "$T/cpio" >>"$CHECK_LOG"
for want in '-rw-r--r-- srv/index.html' '-rw-r--r-- srv/sub/page.html' \
	'lrwxrwxrwx srv/home.html -> index.html' '-rw-r--r-- .kiln/config' \
	"-rwxr-xr-x ${HTTPD#/}"; do
	grep -q -x -F -e "$want  " -e "$want" "$T/cpio" ||
		fail_because "rootfs lacks '$want'"
done
(cd "$T" && cpio -i --quiet --to-stdout .kiln/config <rootfs.cpio) >"$T/kcfg" 2>/dev/null
if ! { grep -q -x "cwd /" "$T/kcfg" && grep -q -x "arg -r" "$T/kcfg"; }; then
	fail_because "/.kiln/config lacks the arguments"
fi
check_end

check_begin "kiln build's rootfs is byte for byte what kiln pack packs"
printf 'data\n' >"$T/data.txt"
kbuild -o "$T/echo.tar" -e 'GREETING=hello world' --file "$T/data.txt:/data.txt" \
	/bin/echo hi there
want_status 0
echo "\$ kiln pack ..." >>"$CHECK_LOG"
"$KILN" pack -o "$T/echo.cpio" -e 'GREETING=hello world' \
	--file "$T/data.txt:/data.txt" /bin/echo hi there >>"$CHECK_LOG" 2>&1 ||
	fail_because "kiln pack failed"
r=$(tar -xOf "$T/echo.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rootfs"]["digest"][7:])')
tar -xOf "$T/echo.tar" "blobs/sha256/$r" | cmp -s - "$T/echo.cpio" ||
	fail_because "the rootfs blob differs from kiln pack's output"
check_end

mkdir -p "$T/proj/site"
cp "$T/site/index.html" "$T/proj/site/"
cat >"$T/proj/Kilnfile" <<EOF
# examples/httpd serving ./site
PROGRAM $HTTPD
ARGS -r /srv -p 8080   # the port the server listens on
DIR ./site /srv
EXPOSE 8080
MEMORY 32M
ENV MODE="a b"
TAG web:k1
EOF

check_begin "a Kilnfile builds the same image as the same options"
kbuild -f "$T/proj/Kilnfile" -o "$T/k1.tar"
want_status 0
kid=$(cat "$KOUT")
grep -q "tagged web:k1" "$KERR" || fail_because "the Kilnfile's TAG is not applied"
(cd "$T" && echo "\$ (cd elsewhere) kiln build -o k2.tar ..." >>"$CHECK_LOG" &&
	"$KILN" build -o "$T/k2.tar" -t web:k1 --dir "$T/proj/site:/srv" \
		--expose 8080/tcp -m 32M -e 'MODE=a b' \
		"$HTTPD" -r /srv -p 8080 >"$T/k2.id" 2>>"$CHECK_LOG")
if ! { [ "$kid" = "$(cat "$T/k2.id")" ] && grep -q -E "$ID_RE" "$T/k2.id"; }; then
	fail_because "Kilnfile ID $kid, options ID $(cat "$T/k2.id")"
fi
(cd "$T/proj" && "$KILN" build -o "$T/k3.tar" >"$T/k3.id" 2>>"$CHECK_LOG")
[ "$kid" = "$(cat "$T/k3.id")" ] ||
	fail_because "'kiln build -o' in the project did not use ./Kilnfile"
check_end

check_begin "-o - writes the same archive to a pipe"
echo "\$ kiln build -o - ... | cat" >>"$CHECK_LOG"
"$KILN" build -o - -t web:1 --dir "$T/site:/srv" --expose 8080 \
	"$HTTPD" -r /srv -p 8080 2>"$T/piped.err" | cat >"$T/piped.tar"
cat "$T/piped.err" >>"$CHECK_LOG"
cmp -s "$T/piped.tar" "$T/web.tar" || fail_because "piped archive differs"
grep -q -x "$ID" "$T/piped.err" || fail_because "the ID is not on stderr"
check_end

# Boot what was built: the kernel and rootfs blobs, straight on QEMU.
check_begin "a built image's kernel and rootfs boot: cat of a --dir file"
kbuild -o "$T/cat.tar" --dir "$T/site:/srv" -w /srv /bin/cat index.html sub/page.html
want_status 0
m=$(tar -xOf "$T/cat.tar" manifest.json)
k=$(printf '%s' "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kernel"]["digest"][7:])')
r=$(printf '%s' "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rootfs"]["digest"][7:])')
tar -xOf "$T/cat.tar" "blobs/sha256/$k" >"$T/cat.kernel"
tar -xOf "$T/cat.tar" "blobs/sha256/$r" >"$T/cat.rootfs"
qemu_direct "$T/cat.kernel" "$T/cat.rootfs" ""
want_status 1 # isa-debug-exit: (0 << 1) | 1
want_out '^<h1>kiln</h1>$' "index.html, read relative to WORKDIR /srv"
want_out '^deeper$'
check_end

# Bad input: one line, the status, no file at -o, an older file kept.
printf 'old\n' >"$T/outdir/old.tar"
# refused NAME STATUS REGEX ARGS...: kiln build ARGS -o out/x.tar fails.
refused() {
	what=$1
	status=$2
	regex=$3
	shift 3
	check_begin "$what"
	kbuild -o "$T/outdir/x.tar" "$@"
	want_status "$status"
	want_one_error "$regex"
	want_no_leftover "$T/outdir"
	check_end
}
refused "a bad tag is 125" 125 "invalid image name 'Web'" -t Web "$HTTPD"
refused "a bad tag part is 125" 125 "invalid tag '-x'" -t web:-x "$HTTPD"
refused "a bad port is 125" 125 "invalid port '70000'" --expose 70000 "$HTTPD"
refused "a bad protocol is 125" 125 "invalid port '80/sctp'" --expose 80/sctp "$HTTPD"
refused "-m below the minimum is 125" 125 "below the minimum of 2M" -m 1M "$HTTPD"
refused "-e without '=' is 125" 125 "invalid environment entry 'X'" -e X "$HTTPD"
refused "a relative --workdir is 125" 125 "invalid --workdir 'srv'" -w srv "$HTTPD"
refused "--dir of a missing directory is 125" 125 "--dir: cannot find '/no/such/dir'" --dir /no/such/dir:/srv "$HTTPD"
refused "--dir of a file is 125" 125 "--dir: '/etc/hostname' is not a directory" --dir /etc/hostname:/srv "$HTTPD"
refused "--dir without GUEST is 125" 125 "invalid --dir '$T/site'" --dir "$T/site" "$HTTPD"
refused "--file of a missing file is 125" 125 "--file: cannot find '/no/file'" --file /no/file:/x "$HTTPD"
refused "a missing kernel is 125" 125 "cannot read the kernel '/no/kiln.elf'" --kernel /no/kiln.elf "$HTTPD"
refused "a kernel that is not ELF is 125" 125 "not an ELF file" --kernel /etc/hostname "$HTTPD"
refused "an unknown option is 125" 125 "unknown option '--bogus'" --bogus "$HTTPD"
refused "a missing program is 127" 127 "cannot find program '/no/prog'" /no/prog
refused "a program that is not ELF is 126" 126 "not an ELF executable" /etc/hostname
mkdir -p "$T/fifo-site" && mkfifo "$T/fifo-site/pipe"
refused "a --dir with a fifo is 125" 125 "not a regular file, directory or symlink" \
	--dir "$T/fifo-site:/srv" "$HTTPD"
refused "a missing Kilnfile is 125" 125 "cannot read the Kilnfile '/no/Kilnfile'" -f /no/Kilnfile
printf 'PROGRAM /bin/echo\n\nCOPYY a b\n' >"$T/bad.kf"
refused "a Kilnfile with an unknown instruction is 125, line named" 125 \
	"$T/bad.kf:3: unknown instruction 'COPYY'" -f "$T/bad.kf"
printf 'PROGRAM /bin/echo\nMEMORY lots\n' >"$T/bad2.kf"
refused "a Kilnfile with a bad MEMORY is 125" 125 "$T/bad2.kf:2: invalid memory size 'lots'" -f "$T/bad2.kf"
refused "a Kilnfile and a program is 125" 125 "not both" -f "$T/proj/Kilnfile" /bin/echo

check_begin "no program and no Kilnfile is 125"
mkdir -p "$T/empty"
cd "$T/empty" || exit 2
echo "\$ kiln build -o x.tar" >>"$CHECK_LOG"
run_logged 60 "$KILN" build -o x.tar
cd "$KILN_ROOT" || exit 2
want_status 125
want_one_error "needs a program or a Kilnfile"
[ -z "$(ls -A "$T/empty")" ] || fail_because "files left in the directory"
check_end

check_begin "a failed build leaves an older file at -o untouched"
kbuild -o "$T/outdir/old.tar" -t Bad "$HTTPD"
want_status 125
[ "$(cat "$T/outdir/old.tar")" = old ] || fail_because "old.tar was changed"
check_end

check_begin "-o into a missing directory or onto a directory is 125"
kbuild -o /no/such/dir/x.tar "$HTTPD"
want_status 125
want_one_error "cannot create '/no/such/dir/x.tar'"
kbuild -o "$T/outdir" "$HTTPD"
want_status 125
want_one_error "is a directory"
check_end

check_begin "without -o and no kilnd answering: one clear error, 125"
echo "\$ KILN_NO_AUTOSTART=1 KILN_HOST=.../nobody.sock kiln build -t web:1 httpd" >>"$CHECK_LOG"
run_logged 120 env KILN_NO_AUTOSTART=1 KILN_HOST="$T/nobody.sock" "$KILN" build -t web:1 "$HTTPD"
want_status 125
want_one_error "cannot reach kilnd at '.*nobody.sock'"
check_end

check_begin "a full disk at -o: 125, 'No space left', no file"
mkdir -p "$T/small"
echo "\$ unshare -m: tmpfs size=256k; kiln build -o small/x.tar" >>"$CHECK_LOG"
# shellcheck disable=SC2016 # expanded by the inner shell
if unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs -o size=256k kiln-test "$1" && shift && "$@"; echo "status $?"; echo "files: $(ls -A "$0")"' \
	"$T/small" "$T/small" "$KILN" build -o "$T/small/x.tar" --dir "$T/site:/srv" "$HTTPD" \
	>"$T/full.out" 2>&1; then
	cat "$T/full.out" >>"$CHECK_LOG"
	grep -q -x 'status 125' "$T/full.out" || fail_because "status is not 125"
	grep -q 'No space left on device' "$T/full.out" || fail_because "no 'No space left' message"
	grep -q -x 'files: ' "$T/full.out" || fail_because "a file was left in the full directory"
	[ "$(grep -c '^kiln:' "$T/full.out")" -eq 1 ] || fail_because "not one error line"
else
	fail_because "cannot mount a tmpfs in a mount namespace (need root)"
fi
check_end
