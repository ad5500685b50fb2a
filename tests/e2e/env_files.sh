#!/bin/sh
# -e KEY=VAL reaches the program's environment (values with spaces and
# percent signs too, and a later -e overrides an earlier one); --file
# HOST:GUEST puts a host file at GUEST, byte for byte; --dir HOST:GUEST
# copies a tree (modes, symlinks, empty directories) and bad ones are
# refused before boot.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

check_begin "-e KEY=VAL reaches /usr/bin/env"
krun -e KILN_E2E=hello -e OTHER=x /usr/bin/env
want_status 0
want_out '^KILN_E2E=hello$'
want_out '^OTHER=x$'
check_end

check_begin "-e values keep spaces, '=' and '%'"
krun -e 'KILN_SPACES=a b  c' -e 'KILN_ODD=x=y%41%' /usr/bin/env
want_status 0
want_out '^KILN_SPACES=a b  c$'
want_out '^KILN_ODD=x=y%41%$'
check_end

check_begin "a later -e overrides an earlier one"
krun -e KILN_TWICE=first -e KILN_TWICE=second /usr/bin/env
want_status 0
want_out '^KILN_TWICE=second$'
want_no_out '^KILN_TWICE=first$'
check_end

data=$KILN_TEST_TMP/data.txt
printf 'line one\nline two with %%percent and spaces  \n\001\002binary\377\n' >"$data"

check_begin "--file puts a file in the guest"
krun --file "$data:/data/file.txt" /bin/cat /data/file.txt
want_status 0
grep -a -v '^kiln: ' "$KOUT.raw" >"$KILN_TEST_TMP/got"
cmp -s "$data" "$KILN_TEST_TMP/got" ||
	fail_because "cat of the guest file differs from the host file"
check_end

check_begin "two --file options, one in a nested directory"
printf 'second\n' >"$KILN_TEST_TMP/second"
krun --file "$data:/a/b/c/first.txt" --file "$KILN_TEST_TMP/second:/second" \
	/bin/cat /second /a/b/c/first.txt
want_status 0
want_out '^second$'
want_out '^line one$'
check_end

check_begin "a missing --file is refused before boot"
krun_limit 60 --file /no/such/host/file:/x "$GUEST/static/hello"
want_status 125
want_one_error '/no/such/host/file'
check_end

tree=$KILN_TEST_TMP/tree
mkdir -p "$tree/sub/deeper" "$tree/empty"
printf 'top\n' >"$tree/top.txt"
printf 'deep\n' >"$tree/sub/deeper/deep.txt"
printf '#!/bin/sh\n' >"$tree/sub/run.sh"
chmod 755 "$tree/sub/run.sh"
ln -s top.txt "$tree/link"
printf 'replaced\n' >"$KILN_TEST_TMP/replacement"

check_begin "--dir copies a tree: files, modes, symlinks, empty directories"
krun --dir "$tree:/srv/tree" /bin/ls -lR /srv/tree
want_status 0
want_out '^-rwxr-xr-x .* run\.sh$'
want_out '^lrwxrwxrwx .* link -> top\.txt$'
want_out '^drwx.* empty$'
want_out '^/srv/tree/sub/deeper:$'
check_end

check_begin "--dir content byte for byte, and a --file replaces one of its files"
krun --dir "$tree:/srv/tree" --file "$KILN_TEST_TMP/replacement:/srv/tree/top.txt" \
	/bin/cat /srv/tree/sub/deeper/deep.txt /srv/tree/link
want_status 0
want_stdout_exact "deep
replaced"
check_end

check_begin "a --dir that is a file or missing is refused before boot"
krun_limit 60 --dir /etc/hostname:/x "$GUEST/static/hello"
want_status 125
want_one_error "--dir: '/etc/hostname' is not a directory"
krun_limit 60 --dir /no/such/dir:/x "$GUEST/static/hello"
want_status 125
want_one_error "--dir: cannot find '/no/such/dir'"
krun_limit 60 --dir "$tree" "$GUEST/static/hello"
want_status 125
want_one_error "invalid --dir"
check_end
