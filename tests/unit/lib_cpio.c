/*
 * Unit tests of lib/cpio.c: an archive of a small tree (directories, a
 * binary file from the host, files from memory including an empty one,
 * a symlink, names of every length modulo 4) is unpacked by GNU
 * `cpio -idm` and compared entry by entry: content, permission bits,
 * symlink target.  The header fields kiln promises (magic 070701,
 * sequential inode numbers, mtime and uid/gid 0, 4-byte alignment, the
 * trailer) are checked on the bytes, and two writes give the same bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "lib_test.h"
#include "util.h"

static char *dir;

static char *tpath(const char *name)
{
	static char buf[2][4096];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static unsigned char binary[3000];

/* Writes the test tree; returns the bytes (caller frees) and length. */
static char *write_tree(size_t *len)
{
	char *buf = NULL, err[256];
	FILE *f = open_memstream(&buf, len);
	struct cpio_writer w;
	int ok = 1;

	cpio_init(&w, f);
	ok &= cpio_add_dir(&w, "d", 0750, err, sizeof(err)) == 0;
	ok &= cpio_add_dir(&w, "d/e", 0700, err, sizeof(err)) == 0;
	ok &= cpio_add_file(&w, "d/f", 0640, tpath("binary"), err,
			    sizeof(err)) == 0;
	ok &= cpio_add_data(&w, "d/g", 0755, "abc", 3, err, sizeof(err)) == 0;
	ok &= cpio_add_data(&w, "d/empty", 0600, "", 0, err, sizeof(err)) == 0;
	ok &= cpio_add_symlink(&w, "d/l", "f", err, sizeof(err)) == 0;
	ok &= cpio_add_data(&w, "d/n1", 0644, "1", 1, err, sizeof(err)) == 0;
	ok &= cpio_add_data(&w, "d/n22", 0644, "22", 2, err, sizeof(err)) == 0;
	ok &=
	    cpio_add_data(&w, "d/n333", 0644, "333", 3, err, sizeof(err)) == 0;
	ok &= cpio_add_data(&w, "d/n4444", 0644, "4444", 4, err, sizeof(err)) ==
	      0;
	ok &= cpio_finish(&w, err, sizeof(err)) == 0;
	fclose(f);
	if (!ok) {
		NOTE("write failed: %s", err);
		free(buf);
		return NULL;
	}
	CHECK(w.offset == *len, "w.offset is the archive size (%llu)",
	      (unsigned long long)w.offset);
	return buf;
}

static unsigned long hexfield(const char *hdr, int i)
{
	char f[9];
	memcpy(f, hdr + 6 + 8 * i, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

static void test_headers(const char *a, size_t len)
{
	size_t off = 0;
	unsigned long ino_want = 1;
	int ok = 1, entries = 0, saw_trailer = 0;

	while (off + 110 <= len && !saw_trailer) {
		const char *h = a + off;
		unsigned long namesize = hexfield(h, 11), size = hexfield(h, 6);
		const char *name = h + 110;

		if (memcmp(h, "070701", 6) != 0) {
			NOTE("bad magic at %zu", off);
			ok = 0;
			break;
		}
		saw_trailer = strcmp(name, "TRAILER!!!") == 0;
		if (!saw_trailer) {
			ok &= hexfield(h, 0) == ino_want++;
			ok &= hexfield(h, 2) == 0 &&
			      hexfield(h, 3) == 0; /* uid gid */
			ok &= hexfield(h, 5) == 0; /* mtime */
			entries++;
		}
		ok &= name[namesize - 1] == '\0';
		off += 110 + namesize;
		off = (off + 3) & ~(size_t)3;
		off += size;
		off = (off + 3) & ~(size_t)3;
	}
	CHECK(ok && saw_trailer && off == len && entries == 10 && len % 4 == 0,
	      "headers: magic, inodes 1..10, uid/gid/mtime 0, aligned, trailer "
	      "last (%d entries, end %zu of %zu)",
	      entries, off, len);
}

static int mode_is(const char *path, unsigned want)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & 07777) == want;
}

static int content_is(const char *path, const void *want, size_t n)
{
	char *got;
	size_t len;
	int same;

	if (util_read_file(path, &got, &len, NULL, 0) < 0)
		return 0;
	same = len == n && memcmp(got, want, n) == 0;
	free(got);
	return same;
}

int main(void)
{
	char *a, *b, cmd[8192], link[64];
	size_t alen, blen;
	ssize_t n;
	char err[256];
	struct cpio_writer w;

	dir = lib_test_tmpdir();
	if (dir == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(binary); i++)
		binary[i] = (unsigned char)(i * 7 + i / 256);
	lib_test_write(tpath("binary"), binary, sizeof(binary));

	a = write_tree(&alen);
	b = write_tree(&blen);
	CHECK(a && b, "the tree is written");
	if (a == NULL || b == NULL)
		return lib_test_done("lib_cpio");
	CHECK(alen == blen && memcmp(a, b, alen) == 0,
	      "two writes give the same %zu bytes", alen);
	test_headers(a, alen);

	lib_test_write(tpath("tree.cpio"), a, alen);
	mkdir(tpath("x"), 0755);
	snprintf(cmd, sizeof(cmd), "cd '%s' && cpio -idm --quiet < '%s'",
		 tpath("x"), tpath("tree.cpio"));
	CHECK(lib_test_sh(cmd), "GNU cpio -idm unpacks it");
	CHECK(content_is(tpath("x/d/f"), binary, sizeof(binary)) &&
		  mode_is(tpath("x/d/f"), 0640),
	      "host file: same bytes, mode 0640");
	CHECK(content_is(tpath("x/d/g"), "abc", 3) &&
		  mode_is(tpath("x/d/g"), 0755),
	      "data file: same bytes, mode 0755");
	CHECK(content_is(tpath("x/d/empty"), "", 0), "empty file");
	CHECK(content_is(tpath("x/d/n1"), "1", 1) &&
		  content_is(tpath("x/d/n22"), "22", 2) &&
		  content_is(tpath("x/d/n333"), "333", 3) &&
		  content_is(tpath("x/d/n4444"), "4444", 4),
	      "names and data of every length modulo 4");
	n = readlink(tpath("x/d/l"), link, sizeof(link) - 1);
	CHECK(n == 1 && link[0] == 'f', "symlink d/l -> f");
	CHECK(mode_is(tpath("x/d"), 0750) && mode_is(tpath("x/d/e"), 0700),
	      "directories with their modes");
	free(a);
	free(b);

	{
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		cpio_init(&w, f);
		CHECK(cpio_add_file(&w, "x", 0644, dir, err, sizeof(err)) < 0 &&
			  lib_test_has(err, "not a regular file"),
		      "a directory as file content is refused: %s", err);
		CHECK(cpio_add_file(&w, "x", 0644, "/no/such", err,
				    sizeof(err)) < 0 &&
			  lib_test_has(err, "cannot open '/no/such'"),
		      "a missing host file is refused: %s", err);
		fclose(f);
		free(buf);
	}

	lib_test_rmdir(dir);
	free(dir);
	return lib_test_done("lib_cpio");
}
