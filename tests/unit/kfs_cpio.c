/*
 * Hosted tests of kernel/fs/cpio.c: an archive made by the system's
 * `cpio -o -H newc` from a temporary tree unpacks into the tree it came
 * from (files, modes, symlinks, hard links, a multi-page file, zero copy
 * until written); hand-made archives check name forms, 070702 and
 * concatenation; malformed archives (truncated header, name or file size
 * past the end, bad magic, missing trailer, ...) give -EINVAL and a klog
 * line; every truncation and many random corruptions of a good archive
 * are handled without a crash.
 */
#include "../../kernel/fs/vfs.h"

#include "mm.h"

#include "kfs_test.h"

static char *mkbuf(size_t n)
{
	char *p = kzalloc(n);
	assert(p);
	return p;
}

/* Appends one newc entry to buf at off; returns the new offset. */
static size_t put_entry(char *buf, size_t off, const char *magic,
			const char *name, uint32_t mode, const void *data,
			uint32_t size, uint32_t nlink, uint32_t ino)
{
	uint32_t namesize = (uint32_t)strlen(name) + 1;

	snprintf(buf + off, 111,
		 "%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		 magic, ino, mode, 0u, 0u, nlink, 1700000000u, size, 0u, 0u, 0u,
		 0u, namesize, 0u);
	off += 110;
	memcpy(buf + off, name, namesize);
	off = ALIGN_UP(off + namesize, 4);
	memcpy(buf + off, data, size);
	return ALIGN_UP(off + size, 4);
}

static size_t put_trailer(char *buf, size_t off)
{
	return put_entry(buf, off, "070701", "TRAILER!!!", 0, "", 0, 1, 0);
}

static char *memmem_kfs(const void *hay, size_t n, const char *needle, size_t m)
{
	const char *h = hay;
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(h + i, needle, m) == 0)
			return (char *)h + i;
	return NULL;
}

/* Reads a whole file through the vfs into a kmalloc'd string. */
static char *slurp(const char *path, size_t *len)
{
	struct file *f;
	char *buf;
	ssize_t n;

	if (vfs_open(path, O_RDONLY, 0, &f) < 0)
		return NULL;
	buf = mkbuf(65536);
	n = vfs_pread(f, buf, 65535, 0);
	file_put(f);
	if (n < 0) {
		kfree(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static bool file_is(const char *path, const char *want)
{
	char *got = slurp(path, NULL);
	bool ok = got && strcmp(got, want) == 0;
	kfree(got);
	return ok;
}

static struct inode *lookup(const char *path, int flags)
{
	struct inode *ino = NULL;
	if (vfs_lookup_at(AT_FDCWD, path, flags, &ino) < 0)
		return NULL;
	return ino;
}

/* Frees everything below dir (test-only; the kernel never needs this). */
static void tree_free(struct inode *dir)
{
	while (dir->dir.head) {
		struct dentry *d = dir->dir.head;
		struct inode *c = d->inode;
		if (S_ISDIR(c->mode))
			tree_free(c);
		dir_unlink(dir, d);
		if (S_ISDIR(c->mode))
			c->nlink = 0;
		inode_maybe_free(c);
	}
}

/* Unpacks into a fresh directory that is not in the tree. */
static int unpack_scratch(const void *data, size_t len)
{
	struct inode *r = inode_new(&ramfs_super, S_IFDIR | 0755);
	int err;

	assert(r);
	r->nlink = 2;
	err = cpio_unpack(r, data, len);
	tree_free(r);
	r->nlink = 0;
	inode_maybe_free(r);
	return err;
}

static const char *tree_script =
    "mkdir -p etc usr/lib/x86_64-linux-gnu bin emptydir\n"
    "printf 'hello\\n' > etc/hostname; chmod 600 etc/hostname\n"
    "ln -s usr/lib lib\n"
    "printf 'libc bytes' > usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "ln -s /usr/lib/x86_64-linux-gnu/libc.so.6 usr/lib/libc-abs\n"
    "printf '#!/bin/sh\\n' > bin/tool; chmod 755 bin/tool\n"
    "awk 'BEGIN { for (i = 0; i < 3000; i++) printf \"%04d\\n\", i }' "
    "> big\n"
    "echo data > a; ln a hardlink\n"
    ": > empty\n";

static void test_good_archive(void **arc_out, size_t *len_out)
{
	size_t len = 0, n;
	void *arc = kfs_cpio_from_script(tree_script, &len);
	struct inode *ino, *ino2;
	char *big;
	bool big_ok = true;

	kfs_ok(arc != NULL, "cpio -o -H newc made an archive (%zu bytes)", len);
	if (!arc)
		return;
	kfs_eq(fs_init(arc, len), 0, "fs_init unpacks the archive");
	kfs_ok(file_is("/etc/hostname", "hello\n"), "/etc/hostname content");
	ino = lookup("/etc/hostname", 0);
	kfs_ok(ino && ino->mode == (S_IFREG | 0600), "/etc/hostname mode 0600");
	kfs_ok(ino && ino->reg.ro >= (const uint8_t *)arc &&
		   ino->reg.ro < (const uint8_t *)arc + len,
	       "file data points into the archive (zero copy)");
	kfs_ok(ino && ino->mtime.sec != 1700000000 && ino->mtime.sec > 0,
	       "mtime comes from the archive, not the clock");
	kfs_ok(file_is("/lib/x86_64-linux-gnu/libc.so.6", "libc bytes"),
	       "relative directory symlink lib -> usr/lib is followed");
	kfs_ok(file_is("/usr/lib/libc-abs", "libc bytes"),
	       "absolute file symlink is followed");
	ino = lookup("/lib", AT_SYMLINK_NOFOLLOW);
	kfs_ok(ino && S_ISLNK(ino->mode) &&
		   strcmp(ino->lnk.target, "usr/lib") == 0,
	       "/lib is a symlink to 'usr/lib'");
	ino = lookup("/bin/tool", 0);
	kfs_ok(ino && (ino->mode & 07777) == 0755, "/bin/tool mode 0755");
	ino = lookup("/emptydir", 0);
	kfs_ok(ino && S_ISDIR(ino->mode) && dir_is_empty(ino),
	       "empty directory");
	ino = lookup("/empty", 0);
	kfs_ok(ino && S_ISREG(ino->mode) && ino->size == 0, "empty file");
	ino = lookup("/a", 0);
	ino2 = lookup("/hardlink", 0);
	kfs_ok(ino && ino == ino2 && ino->nlink == 2,
	       "hard links share one inode with nlink 2");
	kfs_ok(file_is("/hardlink", "data\n"), "hard link content");

	big = slurp("/big", &n);
	kfs_eq((long long)n, 15000, "multi-page file size");
	for (int i = 0; big && i < 3000; i++) {
		char want[6];
		snprintf(want, sizeof(want), "%04d\n", i);
		if (memcmp(big + i * 5, want, 5) != 0) {
			big_ok = false;
			break;
		}
	}
	kfs_ok(big && big_ok, "multi-page file content");
	kfree(big);

	kfs_ok(lookup("/dev/null", 0) && lookup("/proc/self", 0) &&
		   lookup("/tmp", 0),
	       "fs_init adds /dev, /proc and /tmp");
	ino = lookup("/tmp", 0);
	kfs_ok(ino && (ino->mode & 07777) == 01777, "/tmp is mode 1777");

	/* copy on write: the archive itself must not change */
	struct file *f;
	char *where = memmem_kfs(arc, len, "hello\n", 6);
	kfs_eq(vfs_open("/etc/hostname", O_WRONLY, 0, &f), 0,
	       "open archive file for writing");
	kfs_eq(vfs_write(f, "J", 1, false), 1, "write one byte");
	file_put(f);
	kfs_ok(file_is("/etc/hostname", "Jello\n"), "file shows the write");
	kfs_ok(where && memcmp(where, "hello\n", 6) == 0,
	       "archive bytes are untouched (copy on write)");
	*arc_out = arc;
	*len_out = len;
}

static void test_hand_made(void)
{
	char *buf = mkbuf(8192);
	size_t off = 0;
	struct inode *ino;

	off = put_entry(buf, off, "070701", "/abs/file", S_IFREG | 0644, "A", 1,
			1, 100);
	off = put_entry(buf, off, "070702", "./rel/deep/file", S_IFREG | 0640,
			"B", 1, 1, 101);
	off = put_entry(buf, off, "070701", "plain", S_IFREG | 0600, "C", 1, 1,
			102);
	off = put_entry(buf, off, "070701", "//double//slash", S_IFREG | 0644,
			"D", 1, 1, 103);
	off = put_entry(buf, off, "070701", "abs/link", S_IFLNK | 0777, "file",
			4, 1, 104);
	off = put_entry(buf, off, "070701", "plain", S_IFREG | 0644, "again", 5,
			1, 105);
	off = put_entry(buf, off, "070701", "dev/sda", S_IFBLK | 0600, "", 0, 1,
			106);
	off = put_trailer(buf, off);
	/* zero padding then a second archive, as the kernel accepts */
	off += 512;
	off = put_entry(buf, off, "070701", "second/x", S_IFREG | 0644, "E", 1,
			1, 200);
	off = put_trailer(buf, off);
	off += 100; /* trailing zeroes */
	kfs_eq(cpio_unpack(fs_root, buf, off), 0, "hand-made archive unpacks");
	kfs_ok(file_is("/abs/file", "A"), "leading '/' is stripped");
	kfs_ok(file_is("/rel/deep/file", "B"),
	       "leading './', magic 070702, missing parents created");
	kfs_ok(file_is("/double/slash", "D"), "repeated slashes");
	kfs_ok(file_is("/abs/link", "A"), "symlink entry");
	kfs_ok(file_is("/plain", "again"), "a later entry replaces a file");
	ino = lookup("/plain", 0);
	kfs_ok(ino && (ino->mode & 0777) == 0644, "replacement has its mode");
	kfs_ok(!lookup("/dev/sda", 0), "block device entries are skipped");
	kfs_ok(file_is("/second/x", "E"),
	       "a second archive after zero padding is unpacked");

	/* hard links where the data comes with the last name (GNU cpio) */
	off = 0;
	off = put_entry(buf, off, "070701", "hl/one", S_IFREG | 0644, "", 0, 2,
			300);
	off = put_entry(buf, off, "070701", "hl/two", S_IFREG | 0644, "shared",
			6, 2, 300);
	off = put_trailer(buf, off);
	kfs_eq(cpio_unpack(fs_root, buf, off), 0, "hard-link archive unpacks");
	kfs_ok(file_is("/hl/one", "shared") && file_is("/hl/two", "shared") &&
		   lookup("/hl/one", 0) == lookup("/hl/two", 0),
	       "data given with the last link reaches every name");
	kfree(buf);
}

static void expect_einval(const char *what, const void *data, size_t len,
			  const char *word)
{
	int err = unpack_scratch(data, len);
	kfs_eq(err, -EINVAL, "%s gives -EINVAL", what);
	kfs_ok(kfs_contains(kfs_last_log(), word),
	       "%s: klog line mentions '%s'", what, word);
}

static void test_malformed(const void *good, size_t good_len)
{
	char *buf = mkbuf(4096);
	size_t off;

	expect_einval("truncated header", good, 50, "truncated");
	expect_einval("empty archive", good, 0, "truncated");

	memcpy(buf, good, 200);
	memcpy(buf, "123456", 6);
	expect_einval("bad magic", buf, 200, "magic");

	off = put_entry(buf, 0, "070701", "x", S_IFREG | 0644, "abc", 3, 1, 1);
	off = put_trailer(buf, off);
	memcpy(buf + 6 + 8 * 11, "00100000", 8); /* namesize 1 MiB */
	expect_einval("name size beyond the end", buf, off, "name size");

	char *longname = mkbuf(MAX_PATH + 2);
	char *lbuf = mkbuf(2 * MAX_PATH);
	memset(longname, 'a', MAX_PATH);
	off =
	    put_entry(lbuf, 0, "070701", longname, S_IFREG | 0644, "", 0, 1, 1);
	off = put_trailer(lbuf, off);
	expect_einval("name longer than MAX_PATH", lbuf, off, "longer");
	kfree(longname);
	kfree(lbuf);

	off = put_entry(buf, 0, "070701", "x", S_IFREG | 0644, "abc", 3, 1, 1);
	off = put_trailer(buf, off);
	memcpy(buf + 6 + 8 * 6, "000003e8", 8); /* filesize 1000 */
	expect_einval("file size beyond the end", buf, off, "file size");

	off = put_entry(buf, 0, "070701", "x", S_IFREG | 0644, "abc", 3, 1, 1);
	off = put_trailer(buf, off);
	memcpy(buf + 6 + 8 * 6, "0000000g", 8);
	expect_einval("non-hex field", buf, off, "hex");

	off = put_entry(buf, 0, "070701", "x", S_IFREG | 0644, "abc", 3, 1, 1);
	expect_einval("archive without trailer", buf, off, "trailer");

	off =
	    put_entry(buf, 0, "070701", "abcd", S_IFREG | 0644, "abc", 3, 1, 1);
	buf[110 + 4] = 'e'; /* overwrite the NUL */
	off = put_trailer(buf, off);
	expect_einval("name without NUL", buf, off, "NUL");

	off = put_entry(buf, 0, "070701", "l", S_IFLNK | 0777, "", 0, 1, 1);
	off = put_trailer(buf, off);
	expect_einval("symlink with empty target", buf, off, "target");

	off = put_entry(buf, 0, "070701", "l", S_IFLNK | 0777, "a\0b", 3, 1, 1);
	off = put_trailer(buf, off);
	expect_einval("symlink target with NUL", buf, off, "target");

	off = put_entry(buf, 0, "070701", "f", S_IFREG | 0644, "x", 1, 1, 1);
	off =
	    put_entry(buf, off, "070701", "f/x", S_IFREG | 0644, "x", 1, 1, 2);
	off = put_trailer(buf, off);
	expect_einval("file used as a directory", buf, off, "not a directory");

	off = put_entry(buf, 0, "070701", "d/..", S_IFREG | 0644, "x", 1, 1, 1);
	off = put_trailer(buf, off);
	expect_einval("entry named '..'", buf, off, "..");

	memset(buf, 0, 4096);
	memcpy(buf, good, 110);
	expect_einval("header only", buf, 110, "name");
	kfree(buf);
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_fuzz(const void *good, size_t len)
{
	char *buf = mkbuf(len);
	int bad = 0, ok = 0, other = 0;

	kfs_log_quiet(true);
	/* every prefix of the archive */
	for (size_t n = 0; n < len; n += 1 + n / 512) {
		int err = unpack_scratch(good, n);
		if (err == -EINVAL)
			bad++;
		else if (err == 0)
			ok++;
		else
			other++;
	}
	kfs_ok(other == 0 && bad > 0,
	       "truncations: %d rejected, %d accepted, %d other errors", bad,
	       ok, other);

	bad = ok = other = 0;
	for (int i = 0; i < 3000; i++) {
		memcpy(buf, good, len);
		for (int k = 0, flips = 1 + rnd() % 4; k < flips; k++) {
			size_t at = rnd() % len;
			if (rnd() % 3 == 0)
				buf[at] = (char)rnd();
			else
				buf[at] = "0123456789abcdef/."[rnd() % 18];
		}
		int err = unpack_scratch(buf, len);
		if (err == -EINVAL)
			bad++;
		else if (err == 0)
			ok++;
		else
			other++;
	}
	kfs_log_quiet(false);
	kfs_ok(other == 0,
	       "random corruptions: %d rejected, %d accepted, "
	       "%d other errors",
	       bad, ok, other);
	kfree(buf);
}

int main(void)
{
	void *arc = NULL;
	size_t len = 0;

	test_good_archive(&arc, &len);
	if (!fs_root)
		kfs_eq(fs_init(NULL, 0), 0, "fs_init without an archive");
	test_hand_made();
	if (arc) {
		test_malformed(arc, len);
		test_fuzz(arc, len);
	}
	/* the unpacked files still point into arc: keep it until exit */
	int status = kfs_done("kfs_cpio");
	kfs_free(arc);
	return status;
}
