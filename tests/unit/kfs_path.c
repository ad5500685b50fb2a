/*
 * Hosted tests of path lookup and the name syscalls, called the way the
 * program calls them (through the registered handlers): ".", "..",
 * repeated and trailing slashes, relative and absolute symlinks, ELOOP,
 * ENAMETOOLONG, mkdir/rmdir/unlink/rename/link/symlink with Linux's errno
 * for each edge, the working directory (also after it is removed),
 * dirfd-relative calls, access, stat/lstat/newfstatat/statx, and bad
 * pointers.
 */
/* before kernel.h, whose __unused macro would clobber a field name */
#include <asm/stat.h>

#include "../../kernel/fs/vfs.h"

#include "mm.h"
#include "syscall.h"

#include <linux/fs.h>
#include <linux/time_types.h>

#define UTIME_OMIT ((1L << 30) - 2L)

#include "kfs_test.h"

static long mode_of(const char *path)
{
	struct stat st;
	long r = SC(__NR_stat, path, &st);
	return r < 0 ? r : (long)st.st_mode;
}

static long lmode_of(const char *path)
{
	struct stat st;
	long r = SC(__NR_lstat, path, &st);
	return r < 0 ? r : (long)st.st_mode;
}

static long ino_of(const char *path)
{
	struct stat st;
	long r = SC(__NR_stat, path, &st);
	return r < 0 ? r : (long)st.st_ino;
}

static long mkfile(const char *path, const char *data)
{
	long fd = SC(__NR_open, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	SC(__NR_write, fd, data, strlen(data));
	SC(__NR_close, fd);
	return 0;
}

static bool content_is(const char *path, const char *want)
{
	char buf[256];
	long fd = SC(__NR_open, path, O_RDONLY), n;
	if (fd < 0)
		return false;
	n = SC(__NR_read, fd, buf, sizeof(buf) - 1);
	SC(__NR_close, fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

static void test_mkdir_and_lookup(void)
{
	kfs_eq(SC(__NR_mkdir, "/a", 0755), 0, "mkdir /a");
	kfs_eq(SC(__NR_mkdir, "/a", 0755), -EEXIST, "mkdir existing: EEXIST");
	kfs_eq(SC(__NR_mkdir, "/a/nope/c", 0755), -ENOENT,
	       "mkdir under a missing parent: ENOENT");
	kfs_eq(SC(__NR_mkdir, "/", 0755), -EEXIST, "mkdir /: EEXIST");
	kfs_eq(SC(__NR_mkdir, "/a/.", 0755), -EEXIST, "mkdir /a/.: EEXIST");
	kfs_eq(SC(__NR_mkdir, "/a/b/", 0755), 0, "mkdir with trailing slash");
	kfs_eq(mode_of("/a/b"), S_IFDIR | 0755, "directory mode");
	kfs_eq(mkfile("/a/f", "hello"), 0, "create /a/f");
	kfs_eq(mode_of("/a/f"), S_IFREG | 0644, "file mode 0644 (umask 022)");
	kfs_eq(SC(__NR_umask, 0), 022, "umask returns the old mask");
	kfs_eq(SC(__NR_open, "/a/g", O_CREAT | O_RDWR, 0666) >= 0, 1,
	       "create with umask 0");
	kfs_eq(mode_of("/a/g"), S_IFREG | 0666, "mode 0666 with umask 0");
	SC(__NR_umask, 022);
	SC(__NR_close_range, 3, ~0U, 0);

	kfs_eq(ino_of("/a/./b/../f"), ino_of("/a/f"), "'.' and '..' resolve");
	kfs_eq(ino_of("//a///f"), ino_of("/a/f"), "repeated slashes");
	kfs_eq(ino_of("/.."), ino_of("/"), "'..' of the root is the root");
	kfs_eq(ino_of("/../../a/f"), ino_of("/a/f"), "'..' above the root");
	kfs_eq(mode_of("/a/f/"), -ENOTDIR, "trailing slash on a file: ENOTDIR");
	kfs_eq(mode_of("/a/f/."), -ENOTDIR, "file/.: ENOTDIR");
	kfs_eq(mode_of("/a/f/x"), -ENOTDIR, "file used as a dir: ENOTDIR");
	kfs_eq(mode_of("/a/nope/x"), -ENOENT, "missing dir: ENOENT");
	kfs_eq(mode_of(""), -ENOENT, "empty path: ENOENT");
	kfs_eq(mode_of("/a/b/"), S_IFDIR | 0755, "trailing slash on a dir");
}

static void test_symlinks(void)
{
	char name[8], target[8], buf[64];

	kfs_eq(SC(__NR_symlink, "f", "/a/lf"), 0, "relative symlink");
	kfs_eq(mode_of("/a/lf"), S_IFREG | 0644, "stat follows it");
	kfs_eq(lmode_of("/a/lf"), S_IFLNK | 0777, "lstat does not");
	kfs_eq(SC(__NR_readlink, "/a/lf", buf, sizeof(buf)), 1, "readlink");
	kfs_ok(buf[0] == 'f', "readlink gives the target");
	kfs_eq(SC(__NR_readlink, "/a/lf", buf, 0), -EINVAL,
	       "readlink size 0: EINVAL");
	kfs_eq(SC(__NR_readlink, "/a/f", buf, 10), -EINVAL,
	       "readlink of a file: EINVAL");
	kfs_eq(SC(__NR_symlink, "/a", "/la"), 0, "absolute symlink");
	kfs_eq(ino_of("/la/f"), ino_of("/a/f"), "through an absolute link");
	kfs_eq(mode_of("/la/"), S_IFDIR | 0755, "link to dir with slash");
	kfs_eq(lmode_of("/la/"), S_IFDIR | 0755,
	       "a trailing slash follows even for lstat");
	kfs_eq(SC(__NR_symlink, "../f", "/a/b/up"), 0, "link with '..'");
	kfs_eq(ino_of("/a/b/up"), ino_of("/a/f"), "'..' in a link target");
	kfs_eq(SC(__NR_symlink, "/la/b/up", "/chain"), 0, "link to a link");
	kfs_ok(content_is("/chain", "hello"), "read through three links");
	kfs_eq(mode_of("/a/lf/"), -ENOTDIR,
	       "slash after a link to a file: ENOTDIR");

	/* 40 hops are allowed, 41 are ELOOP */
	SC(__NR_mkdir, "/loop", 0755);
	SC(__NR_symlink, "/a/f", "/loop/l0");
	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(target, sizeof(target), "l%d", i - 1);
		SC(__NR_symlinkat, target,
		   SC(__NR_open, "/loop", O_RDONLY | O_DIRECTORY), name);
	}
	SC(__NR_close_range, 3, ~0U, 0);
	kfs_eq(ino_of("/loop/l39"), ino_of("/a/f"), "40 symlinks are followed");
	kfs_eq(ino_of("/loop/l40"), -ELOOP, "41 symlinks: ELOOP");
	kfs_eq(SC(__NR_symlink, "self", "/loop/self"), 0, "self loop");
	kfs_eq(mode_of("/loop/self"), -ELOOP, "stat of a loop: ELOOP");
	kfs_eq(lmode_of("/loop/self"), S_IFLNK | 0777, "lstat of a loop");
	kfs_eq(mode_of("/loop/self/x"), -ELOOP, "loop in the middle: ELOOP");
	kfs_eq(SC(__NR_open, "/a/lf", O_RDONLY | O_NOFOLLOW), -ELOOP,
	       "O_NOFOLLOW on a symlink: ELOOP");
	long fd = SC(__NR_open, "/a/lf", O_PATH | O_NOFOLLOW);
	kfs_ok(fd >= 0, "O_PATH|O_NOFOLLOW opens the link itself");
	kfs_eq(SC(__NR_readlinkat, fd, "", buf, sizeof(buf)), 1,
	       "readlinkat(fd, \"\") on that descriptor");
	kfs_eq(SC(__NR_read, fd, buf, 1), -EBADF, "read on O_PATH: EBADF");
	SC(__NR_close, fd);

	kfs_eq(SC(__NR_symlink, "nothere", "/a/dang"), 0, "dangling link");
	kfs_eq(mode_of("/a/dang"), -ENOENT, "stat of a dangling link: ENOENT");
	kfs_eq(SC(__NR_open, "/a/dang", O_CREAT | O_EXCL | O_WRONLY, 0644),
	       -EEXIST, "O_CREAT|O_EXCL on a dangling link: EEXIST");
	fd = SC(__NR_open, "/a/dang", O_CREAT | O_WRONLY, 0644);
	kfs_ok(fd >= 0, "O_CREAT through a dangling link creates the target");
	SC(__NR_close, fd);
	kfs_eq(mode_of("/a/nothere"), S_IFREG | 0644, "target now exists");
	kfs_eq(SC(__NR_symlink, "", "/a/empty"), -ENOENT,
	       "symlink with empty target: ENOENT");
	kfs_eq(SC(__NR_symlink, "x", "/a/f"), -EEXIST,
	       "symlink over a file: EEXIST");
	kfs_eq(SC(__NR_symlink, "x", "/a/newdir/"), -ENOENT,
	       "symlink named with a trailing slash: ENOENT");
}

static void test_long_names(void)
{
	char *name = kzalloc(MAX_PATH + 16);

	memset(name, 'n', 256);
	name[0] = '/';
	kfs_eq(SC(__NR_mkdir, name, 0755), 0, "255-byte component works");
	memset(name, 'n', 257);
	name[0] = '/';
	kfs_eq(SC(__NR_mkdir, name, 0755), -ENAMETOOLONG,
	       "256-byte component: ENAMETOOLONG");
	for (int i = 0; i < MAX_PATH + 8; i++)
		name[i] = i % 2 ? '/' : 'a';
	name[MAX_PATH + 8] = '\0';
	kfs_eq(mode_of(name), -ENAMETOOLONG, "path of 4 KiB: ENAMETOOLONG");
	kfree(name);
}

static void test_unlink_rmdir(void)
{
	mkfile("/a/del", "x");
	kfs_eq(SC(__NR_unlink, "/a/del"), 0, "unlink");
	kfs_eq(mode_of("/a/del"), -ENOENT, "gone after unlink");
	kfs_eq(SC(__NR_unlink, "/a/del"), -ENOENT, "unlink missing: ENOENT");
	kfs_eq(SC(__NR_unlink, "/a/b"), -EISDIR, "unlink a dir: EISDIR");
	kfs_eq(SC(__NR_unlink, "/a/b/"), -EISDIR, "unlink dir/: EISDIR");
	kfs_eq(SC(__NR_unlink, "/a/f/"), -ENOTDIR, "unlink file/: ENOTDIR");
	kfs_eq(SC(__NR_unlink, "/a/."), -EISDIR, "unlink '.': EISDIR");
	kfs_eq(SC(__NR_rmdir, "/a"), -ENOTEMPTY, "rmdir non-empty: ENOTEMPTY");
	kfs_eq(SC(__NR_rmdir, "/a/."), -EINVAL, "rmdir '.': EINVAL");
	kfs_eq(SC(__NR_rmdir, "/a/.."), -ENOTEMPTY, "rmdir '..': ENOTEMPTY");
	kfs_eq(SC(__NR_rmdir, "/"), -EBUSY, "rmdir /: EBUSY");
	kfs_eq(SC(__NR_rmdir, "/a/f"), -ENOTDIR, "rmdir a file: ENOTDIR");
	kfs_eq(SC(__NR_rmdir, "/a/lf"), -ENOTDIR, "rmdir a symlink: ENOTDIR");
	SC(__NR_mkdir, "/a/e", 0755);
	kfs_eq(SC(__NR_unlinkat, AT_FDCWD, "/a/e", 0x1), -EINVAL,
	       "unlinkat with unknown flags: EINVAL");
	kfs_eq(SC(__NR_unlinkat, AT_FDCWD, "/a/e", AT_REMOVEDIR), 0,
	       "unlinkat AT_REMOVEDIR");
	kfs_eq(mode_of("/a/e"), -ENOENT, "directory gone");

	/* an open file outlives its name */
	mkfile("/a/open", "still here");
	long fd = SC(__NR_open, "/a/open", O_RDONLY);
	char buf[16] = {0};
	kfs_eq(SC(__NR_unlink, "/a/open"), 0, "unlink an open file");
	kfs_eq(SC(__NR_read, fd, buf, 10), 10, "read it after unlink");
	kfs_ok(memcmp(buf, "still here", 10) == 0, "content intact");
	struct stat st;
	SC(__NR_fstat, fd, &st);
	kfs_eq((long long)st.st_nlink, 0, "fstat: nlink 0");
	SC(__NR_close, fd);
}

static void test_rename(void)
{
	long r;

	mkfile("/r1", "one");
	mkfile("/r2", "two");
	long ino1 = ino_of("/r1");
	kfs_eq(SC(__NR_rename, "/r1", "/r3"), 0, "rename a file");
	kfs_eq(ino_of("/r3"), ino1, "same inode under the new name");
	kfs_eq(mode_of("/r1"), -ENOENT, "old name gone");
	kfs_eq(SC(__NR_rename, "/r3", "/r2"), 0, "rename over a file");
	kfs_ok(content_is("/r2", "one"), "target replaced");
	kfs_eq(SC(__NR_rename, "/r2", "/r2"), 0, "rename to itself: 0");
	kfs_eq(SC(__NR_rename, "/nope", "/x"), -ENOENT, "missing: ENOENT");
	kfs_eq(SC(__NR_rename, "/a/.", "/x"), -EBUSY, "rename '.': EBUSY");
	kfs_eq(SC(__NR_rename, "/r2", "/a/b"), -EISDIR,
	       "file over dir: EISDIR");
	kfs_eq(SC(__NR_rename, "/r2/", "/r4"), -ENOTDIR,
	       "file with trailing slash: ENOTDIR");

	SC(__NR_mkdir, "/d1", 0755);
	SC(__NR_mkdir, "/d1/sub", 0755);
	mkfile("/d1/sub/x", "x");
	SC(__NR_mkdir, "/d2", 0755);
	kfs_eq(SC(__NR_rename, "/d1", "/d1/sub/in"), -EINVAL,
	       "dir into itself: EINVAL");
	kfs_eq(SC(__NR_rename, "/d1", "/r2"), -ENOTDIR,
	       "dir over file: ENOTDIR");
	kfs_eq(SC(__NR_rename, "/d2", "/d1"), -ENOTEMPTY,
	       "dir over non-empty dir: ENOTEMPTY");
	kfs_eq(SC(__NR_rename, "/d1", "/d2/"), 0, "dir over empty dir");
	kfs_ok(content_is("/d2/sub/x", "x"), "moved tree is reachable");
	kfs_eq(ino_of("/d2/sub/.."), ino_of("/d2"), "'..' follows the move");
	kfs_eq(SC(__NR_renameat2, AT_FDCWD, "/r2", AT_FDCWD, "/d2/sub/x",
		  RENAME_NOREPLACE),
	       -EEXIST, "RENAME_NOREPLACE over a file: EEXIST");
	kfs_eq(SC(__NR_renameat2, AT_FDCWD, "/r2", AT_FDCWD, "/d2/sub/x",
		  RENAME_EXCHANGE),
	       0, "RENAME_EXCHANGE");
	kfs_ok(content_is("/r2", "x") && content_is("/d2/sub/x", "one"),
	       "contents exchanged");
	kfs_eq(SC(__NR_renameat2, AT_FDCWD, "/r2", AT_FDCWD, "/d2", 0x100),
	       -EINVAL, "renameat2 with unknown flags: EINVAL");
	r = SC(__NR_renameat2, AT_FDCWD, "/r2", AT_FDCWD, "/zz",
	       RENAME_NOREPLACE);
	kfs_eq(r, 0, "RENAME_NOREPLACE to a free name");
	kfs_eq(SC(__NR_rename, "/zz", "/proc/zz"), -EXDEV,
	       "rename into /proc: EXDEV");
}

static void test_link(void)
{
	struct stat st;

	mkfile("/l1", "data");
	kfs_eq(SC(__NR_link, "/l1", "/l2"), 0, "link");
	kfs_eq(ino_of("/l2"), ino_of("/l1"), "same inode");
	SC(__NR_stat, "/l1", &st);
	kfs_eq((long long)st.st_nlink, 2, "nlink 2");
	kfs_eq(SC(__NR_link, "/a", "/a2"), -EPERM, "link a dir: EPERM");
	kfs_eq(SC(__NR_link, "/l1", "/l2"), -EEXIST,
	       "link over existing: EEXIST");
	kfs_eq(SC(__NR_link, "/nope", "/l3"), -ENOENT, "link missing: ENOENT");
	kfs_eq(SC(__NR_unlink, "/l1"), 0, "unlink one name");
	kfs_ok(content_is("/l2", "data"), "the other name still works");
	kfs_eq(SC(__NR_linkat, AT_FDCWD, "/a/lf", AT_FDCWD, "/l4", 0), 0,
	       "linkat without AT_SYMLINK_FOLLOW links the symlink");
	kfs_eq(lmode_of("/l4"), S_IFLNK | 0777, "it is a symlink");
	kfs_eq(SC(__NR_linkat, AT_FDCWD, "/a/lf", AT_FDCWD, "/l5",
		  AT_SYMLINK_FOLLOW),
	       0, "linkat AT_SYMLINK_FOLLOW");
	kfs_eq(ino_of("/l5"), ino_of("/a/f"), "it links the target");
	kfs_eq(SC(__NR_linkat, AT_FDCWD, "/l5", AT_FDCWD, "/l6", 0x1), -EINVAL,
	       "linkat bad flags: EINVAL");
}

static void test_cwd(void)
{
	char buf[64];

	kfs_eq(SC(__NR_getcwd, buf, sizeof(buf)), 2, "getcwd at / counts NUL");
	kfs_ok(strcmp(buf, "/") == 0, "getcwd is /");
	kfs_eq(SC(__NR_chdir, "/a/b"), 0, "chdir");
	kfs_eq(SC(__NR_getcwd, buf, sizeof(buf)), 5, "getcwd length");
	kfs_ok(strcmp(buf, "/a/b") == 0, "getcwd is /a/b");
	kfs_eq(SC(__NR_getcwd, buf, 4), -ERANGE, "small buffer: ERANGE");
	kfs_eq(SC(__NR_getcwd, KFS_BAD, 64), -EFAULT, "bad buffer: EFAULT");
	kfs_eq(ino_of("../f"), ino_of("/a/f"), "relative lookup from cwd");
	kfs_eq(ino_of("."), ino_of("/a/b"), "'.' is the cwd");
	kfs_eq(SC(__NR_chdir, "/a/f"), -ENOTDIR, "chdir to a file: ENOTDIR");
	kfs_eq(SC(__NR_chdir, "/nope"), -ENOENT, "chdir missing: ENOENT");
	kfs_eq(SC(__NR_chdir, "/la"), 0, "chdir through a symlink");
	SC(__NR_getcwd, buf, sizeof(buf));
	kfs_ok(strcmp(buf, "/a") == 0, "getcwd gives the real path");
	long fd = SC(__NR_open, "/a/b", O_RDONLY | O_DIRECTORY);
	kfs_eq(SC(__NR_fchdir, fd), 0, "fchdir");
	SC(__NR_getcwd, buf, sizeof(buf));
	kfs_ok(strcmp(buf, "/a/b") == 0, "fchdir moved");
	SC(__NR_close, fd);
	fd = SC(__NR_open, "/a/f", O_RDONLY);
	kfs_eq(SC(__NR_fchdir, fd), -ENOTDIR, "fchdir to a file: ENOTDIR");
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_fchdir, 999), -EBADF, "fchdir bad fd: EBADF");

	SC(__NR_mkdir, "/gone", 0755);
	SC(__NR_chdir, "/gone");
	kfs_eq(SC(__NR_rmdir, "/gone"), 0, "rmdir the cwd");
	kfs_eq(SC(__NR_getcwd, buf, sizeof(buf)), -ENOENT,
	       "getcwd in a removed dir: ENOENT");
	kfs_eq(SC(__NR_open, "new", O_CREAT | O_WRONLY, 0644), -ENOENT,
	       "create in a removed dir: ENOENT");
	kfs_eq(SC(__NR_mkdir, "new", 0755), -ENOENT,
	       "mkdir in a removed dir: ENOENT");
	kfs_eq(mode_of("."), S_IFDIR | 0755, "stat '.' still works");
	kfs_eq(ino_of(".."), ino_of("/"), "'..' of a removed dir still works");
	SC(__NR_chdir, "/");
	kfs_eq(ino_of("a/f"), ino_of("/a/f"), "back at /");
}

static void test_at_calls(void)
{
	long dfd = SC(__NR_open, "/a", O_RDONLY | O_DIRECTORY);
	long ffd = SC(__NR_open, "/a/f", O_RDONLY);
	struct stat st;
	long fd;

	fd = SC(__NR_openat, dfd, "f", O_RDONLY);
	kfs_ok(fd >= 0, "openat relative to a dir fd");
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_openat, ffd, "x", O_RDONLY), -ENOTDIR,
	       "openat relative to a file fd: ENOTDIR");
	kfs_eq(SC(__NR_openat, 999, "x", O_RDONLY), -EBADF,
	       "openat bad dirfd: EBADF");
	fd = SC(__NR_openat, 999, "/a/f", O_RDONLY);
	kfs_ok(fd >= 0, "absolute path ignores a bad dirfd");
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_mkdirat, dfd, "sub", 0700), 0, "mkdirat");
	kfs_eq(mode_of("/a/sub"), S_IFDIR | 0700, "mkdirat made /a/sub");
	kfs_eq(SC(__NR_unlinkat, dfd, "sub", AT_REMOVEDIR), 0, "unlinkat dir");
	kfs_eq(SC(__NR_newfstatat, dfd, "f", &st, 0), 0, "newfstatat dirfd");
	kfs_eq((long long)st.st_size, 5, "size through newfstatat");
	kfs_eq(SC(__NR_newfstatat, ffd, "", &st, AT_EMPTY_PATH), 0,
	       "newfstatat AT_EMPTY_PATH");
	kfs_eq(st.st_mode, S_IFREG | 0644, "AT_EMPTY_PATH stats the fd");
	kfs_eq(SC(__NR_newfstatat, ffd, "", &st, 0), -ENOENT,
	       "empty path without AT_EMPTY_PATH: ENOENT");
	kfs_eq(SC(__NR_newfstatat, AT_FDCWD, "/a/lf", &st, AT_SYMLINK_NOFOLLOW),
	       0, "newfstatat AT_SYMLINK_NOFOLLOW");
	kfs_eq(st.st_mode, S_IFLNK | 0777, "it stats the link");
	kfs_eq(SC(__NR_newfstatat, AT_FDCWD, "/a", &st, 0x4), -EINVAL,
	       "newfstatat bad flags: EINVAL");
	kfs_eq(SC(__NR_newfstatat, AT_FDCWD, "/a", KFS_BAD, 0), -EFAULT,
	       "newfstatat bad buffer: EFAULT");

	struct statx sx;
	memset(&sx, 0xff, sizeof(sx));
	kfs_eq(SC(__NR_statx, dfd, "f", 0, STATX_BASIC_STATS, &sx), 0, "statx");
	kfs_ok((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
	       "statx mask has the basic stats");
	kfs_ok(sx.stx_size == 5 && sx.stx_mode == (S_IFREG | 0644) &&
		   sx.stx_nlink == 2 && sx.stx_ino == (uint64_t)ino_of("/a/f"),
	       "statx size, mode, nlink, ino");
	kfs_ok(sx.stx_mtime.tv_sec == 1700000000 && sx.stx_blksize == 4096,
	       "statx mtime and blksize");
	kfs_eq(SC(__NR_statx, ffd, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx),
	       0, "statx with NULL path and AT_EMPTY_PATH");
	kfs_eq(SC(__NR_statx, AT_FDCWD, "/a", 0x6000, 0, &sx), -EINVAL,
	       "statx with both sync flags: EINVAL");
	kfs_eq(SC(__NR_statx, AT_FDCWD, "/a", 0, STATX__RESERVED, &sx), -EINVAL,
	       "statx reserved mask bit: EINVAL");

	kfs_eq(SC(__NR_access, "/a/f", 0), 0, "access F_OK");
	kfs_eq(SC(__NR_access, "/a/f", 4 | 2), 0, "access R_OK|W_OK as root");
	kfs_eq(SC(__NR_access, "/a/f", 1), -EACCES, "X_OK without x bit");
	kfs_eq(SC(__NR_chmod, "/a/f", 0755), 0, "chmod");
	kfs_eq(SC(__NR_access, "/a/f", 1), 0, "X_OK with x bit");
	kfs_eq(SC(__NR_access, "/a", 1), 0, "X_OK on a dir");
	kfs_eq(SC(__NR_access, "/nope", 0), -ENOENT, "access missing: ENOENT");
	kfs_eq(SC(__NR_access, "/a/f", 8), -EINVAL, "access bad mode: EINVAL");
	kfs_eq(SC(__NR_faccessat, dfd, "f", 1), 0, "faccessat");
	kfs_eq(SC(__NR_faccessat2, dfd, "f", 0, 0x1), -EINVAL,
	       "faccessat2 bad flags: EINVAL");
	kfs_eq(SC(__NR_faccessat2, dfd, "lf", 0, AT_SYMLINK_NOFOLLOW), 0,
	       "faccessat2 AT_SYMLINK_NOFOLLOW");
	SC(__NR_fchmod, ffd, 0600);
	kfs_eq(mode_of("/a/f"), S_IFREG | 0600, "fchmod");
	kfs_eq(SC(__NR_fchmodat, dfd, "f", 0644), 0, "fchmodat");
	kfs_eq(SC(__NR_chown, "/a/f", 1000, 1000), 0, "chown accepted");
	SC(__NR_fstat, ffd, &st);
	kfs_ok(st.st_uid == 1000 && st.st_gid == 1000, "chown recorded");
	SC(__NR_fchown, ffd, 0, -1);
	SC(__NR_fstat, ffd, &st);
	kfs_ok(st.st_uid == 0 && st.st_gid == 1000, "fchown with -1 keeps gid");
	SC(__NR_close, dfd);
	SC(__NR_close, ffd);
}

static void test_bad_pointers(void)
{
	struct stat st;

	kfs_eq(SC(__NR_stat, KFS_BAD, &st), -EFAULT, "stat bad path: EFAULT");
	kfs_eq(SC(__NR_stat, NULL, &st), -EFAULT, "stat NULL path: EFAULT");
	kfs_eq(SC(__NR_stat, "/a", KFS_BAD), -EFAULT, "stat bad buf: EFAULT");
	kfs_eq(SC(__NR_open, NULL, O_RDONLY), -EFAULT, "open NULL: EFAULT");
	kfs_eq(SC(__NR_mkdir, (char *)KFS_BAD + 1, 0755), -EFAULT,
	       "mkdir bad path: EFAULT");
	kfs_eq(SC(__NR_rename, "/a/f", KFS_BAD), -EFAULT,
	       "rename bad new path: EFAULT");
	kfs_eq(SC(__NR_readlink, "/a/lf", KFS_BAD, 10), -EFAULT,
	       "readlink bad buffer: EFAULT");
	kfs_eq(SC(__NR_symlink, KFS_BAD, "/x"), -EFAULT,
	       "symlink bad target: EFAULT");
	kfs_eq(SC(__NR_chdir, KFS_BAD), -EFAULT, "chdir bad path: EFAULT");
	kfs_eq(SC(__NR_utimensat, AT_FDCWD, "/a/f", KFS_BAD, 0), -EFAULT,
	       "utimensat bad times: EFAULT");
}

static void test_times(void)
{
	struct __kernel_timespec ts[2] = {{100, 5}, {200, 7}};
	struct stat st;

	kfs_eq(SC(__NR_utimensat, AT_FDCWD, "/a/f", ts, 0), 0, "utimensat");
	SC(__NR_stat, "/a/f", &st);
	kfs_ok(st.st_atime == 100 && st.st_atime_nsec == 5 &&
		   st.st_mtime == 200 && st.st_mtime_nsec == 7,
	       "times set");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 300;
	SC(__NR_utimensat, AT_FDCWD, "/a/f", ts, 0);
	SC(__NR_stat, "/a/f", &st);
	kfs_ok(st.st_atime == 100 && st.st_mtime == 300, "UTIME_OMIT");
	ts[1].tv_nsec = 1000000000;
	kfs_eq(SC(__NR_utimensat, AT_FDCWD, "/a/f", ts, 0), -EINVAL,
	       "utimensat bad nsec: EINVAL");
	kfs_eq(SC(__NR_utimensat, AT_FDCWD, "/a/f", NULL, 0), 0,
	       "utimensat NULL: now");
	SC(__NR_stat, "/a/f", &st);
	kfs_ok(st.st_mtime == 1700000000, "mtime is now");
	long fd = SC(__NR_open, "/a/f", O_RDONLY);
	ts[0].tv_nsec = 0;
	ts[1].tv_nsec = 0;
	kfs_eq(SC(__NR_utimensat, fd, NULL, ts, 0), 0, "futimens (NULL path)");
	SC(__NR_close, fd);
	SC(__NR_stat, "/a/f", &st);
	kfs_ok(st.st_mtime == 300, "futimens set mtime");
	kfs_eq(SC(__NR_utimensat, AT_FDCWD, "/nope", NULL, 0), -ENOENT,
	       "utimensat missing: ENOENT");
}

int main(void)
{
	kfs_eq(fs_init(NULL, 0), 0, "fs_init without an archive");
	test_mkdir_and_lookup();
	test_symlinks();
	test_long_names();
	test_unlink_rmdir();
	test_rename();
	test_link();
	test_cwd();
	test_at_calls();
	test_bad_pointers();
	test_times();
	return kfs_done("kfs_path");
}
