#!/bin/sh
# A full disk in kilnd's image store: the state directory is a small
# tmpfs, sized from the big image's archive so that the archive's upload
# fits but its blobs do not fit beside it (the kernel's size moves the
# archive's, so a fixed size would leave either case to chance).  Loading an image that does not fit is a 507 with a message
# that says so, whether the upload itself or the blobs ran out of room;
# nothing partial is left in the store (every blob there is whole and
# verified), and kilnd keeps serving: a smaller image still loads and
# runs, and removing it frees the room again.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

# The big archive first: the tmpfs is its size, 768 KiB for the small
# image, the database and the logs, and a quarter of it again; its blobs
# (about as large) then never fit while its upload is still there.
mkdir -p "$KD_STATE"
if ! "$KILN" build -o "$KD_IMAGES/big.tar" -t big:1 /bin/sleep 1 \
	>"$KILN_TEST_TMP/big.out" 2>&1; then
	test_fail "$SCENARIO: setup" "kiln build of big:1 failed: $(head -n 1 "$KILN_TEST_TMP/big.out")"
	exit 0
fi
big=$(stat -c %s "$KD_IMAGES/big.tar")
big_k=$(((big + 1023) / 1024))
tmpfs_k=$((big_k + 768 + big_k / 4))
if ! mount -t tmpfs -o "size=${tmpfs_k}k" kilntest "$KD_STATE"; then
	test_fail "$SCENARIO: tmpfs" "cannot mount a tmpfs (need root)"
	exit 0
fi
kd_start || exit 0

# blobs_verified: every blob's sha256 is its name; no temp files.
blobs_verified() {
	for b in "$KD_STATE"/blobs/sha256/* "$KD_STATE"/blobs/sha256/.*; do
		case $(basename "$b") in . | .. | '*' | '.*') continue ;; esac
		[ -f "$b" ] || continue
		[ "$(sha256sum <"$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || {
			echo "bad blob $b"
			return 1
		}
	done
	return 0
}

check_begin "setup: a small and a big image archive"
kd_build small:1 examples/hello
echo "big.tar: $big bytes; tmpfs: $tmpfs_k KiB" >>"$CHECK_LOG"
[ "$big" -gt 1500000 ] || fail_because "big.tar is only $big bytes"
check_end

check_begin "an upload larger than the free space: 507"
head -c $(((tmpfs_k + 1024) * 1024)) /dev/urandom >"$KILN_TEST_TMP/huge.tar"
k load -i "$KILN_TEST_TMP/huge.tar"
want_status 1
want_one_error "cannot store the upload in '.*/tmp': No space left on device \(free some space, e.g. 'kiln rmi'\)"
[ -z "$(ls -A "$KD_STATE/tmp")" ] || fail_because "upload left in tmp/"
k ps
want_status 0
check_end

check_begin "blobs that do not fit: 507, no partial blob"
k load -i "$KD_IMAGES/big.tar"
want_status 1
want_one_error "no space left in the image store .*No space left on device"
out=$(blobs_verified) || fail_because "$out"
code=$(curl -s -o "$KILN_TEST_TMP/answer" -w '%{http_code}' --unix-socket "$KD_SOCK" \
	-H 'Content-Type: application/x-tar' --data-binary "@$KD_IMAGES/big.tar" \
	http://kilnd/v1/images/load)
cat "$KILN_TEST_TMP/answer" >>"$CHECK_LOG"
[ "$code" = 507 ] || fail_because "HTTP $code from the API, want 507"
[ -z "$(ls -A "$KD_STATE/tmp")" ] || fail_because "files left in tmp/"
k images
want_no_out '^big '
check_end

check_begin "kilnd still serves: the small image runs"
k run --name s small:1
want_status 0
want_out '^hello from kiln$'
k rm s
want_status 0
check_end

check_begin "after rmi the room is back"
k rmi small:1
want_status 0
df "$KD_STATE" >>"$CHECK_LOG"
k load -i "$KD_IMAGES/big.tar"
# The tmpfs holds the upload or the blobs, not both at once: still 507, but
# now for the blobs (the upload fit), and again nothing partial.
want_status 1
out=$(blobs_verified) || fail_because "$out"
k load -i "$KD_IMAGES/small_1.tar"
want_status 0
check_end
