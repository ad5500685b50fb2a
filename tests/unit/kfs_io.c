/*
 * Hosted tests of open files and descriptors through the syscall
 * handlers: create/write/read/truncate (sparse, copy on write), O_APPEND,
 * dup sharing offsets, lowest-free descriptors, fcntl and ioctl, readv/
 * writev limits, getdents64 across small buffers and concurrent removal,
 * the console and /dev devices, /proc/self, sendfile, copy_file_range,
 * fallocate, mmap checks, the file pages shared mappings use, EMFILE and
 * bad pointers.
 */
/* before kernel.h, whose __unused macro would clobber a field name */
#include <asm/stat.h>

#include "../../kernel/fs/vfs.h"

#include "mm.h"
#include "syscall.h"

#include <asm/ioctls.h>
#include <asm/statfs.h>
#include <linux/close_range.h>
#include <linux/falloc.h>
#include <linux/uio.h>

#include "kfs_test.h"

#define SEEK_SET_  0
#define SEEK_CUR_  1
#define SEEK_END_  2
#define SEEK_DATA_ 3
#define SEEK_HOLE_ 4

struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static long xopen(const char *path, int flags)
{
	return SC(__NR_open, path, flags, 0644);
}

static void close_from(int fd)
{
	SC(__NR_close_range, fd, ~0U, 0);
}

static void test_console(void)
{
	char buf[16];
	struct stat st;
	struct iovec iov[2] = {{(void *)"ab", 2}, {(void *)"cd\n", 3}};

	kfs_eq(fs_open_console(), 0, "fs_open_console");
	kfs_console_reset();
	kfs_eq(SC(__NR_write, 1, "hi\n", 3), 3, "write to stdout");
	kfs_eq(SC(__NR_write, 2, "err\n", 4), 4, "write to stderr");
	kfs_eq(SC(__NR_writev, 1, iov, 2), 5, "writev to stdout");
	kfs_ok(strcmp(kfs_console(), "hi\nerr\nabcd\n") == 0,
	       "console received the bytes in order");
	kfs_eq(SC(__NR_read, 0, buf, sizeof(buf)), 0, "stdin reads EOF");
	kfs_eq(SC(__NR_ioctl, 1, TCGETS, buf), -ENOTTY, "TCGETS: ENOTTY");
	kfs_eq(SC(__NR_ioctl, 1, TIOCGWINSZ, buf), -ENOTTY,
	       "TIOCGWINSZ: ENOTTY");
	kfs_eq(SC(__NR_lseek, 1, 0, SEEK_CUR_), -ESPIPE, "lseek: ESPIPE");
	kfs_eq(SC(__NR_pwrite64, 1, "x", 1, 0), -ESPIPE, "pwrite64: ESPIPE");
	kfs_eq(SC(__NR_fstat, 1, &st), 0, "fstat stdout");
	kfs_ok(S_ISCHR(st.st_mode) && st.st_rdev == ((5 << 8) | 1),
	       "stdout is char device 5:1");
	kfs_eq(SC(__NR_write, 1, KFS_BAD, 3), -EFAULT, "bad buffer: EFAULT");
	kfs_eq(SC(__NR_fsync, 1), -EINVAL, "fsync console: EINVAL");
	kfs_eq(SC(__NR_fcntl, 1, F_GETFL), O_RDWR | O_LARGEFILE,
	       "F_GETFL of the console");
	/* /dev/stdout is a link to /proc/self/fd/1, which reopens fd 1 */
	long fd =
	    SC(__NR_open, "/dev/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	kfs_ok(fd >= 3, "open /dev/stdout as a shell redirection does");
	kfs_console_reset();
	SC(__NR_write, fd, "via\n", 4);
	kfs_ok(strcmp(kfs_console(), "via\n") == 0,
	       "writes through /dev/stdout reach the console");
	SC(__NR_close, fd);
}

static void test_devices(void)
{
	char buf[64];
	long fd;

	fd = xopen("/dev/null", O_RDWR);
	kfs_eq(SC(__NR_write, fd, KFS_BAD, 10), 10,
	       "/dev/null swallows writes (without reading them)");
	kfs_eq(SC(__NR_read, fd, buf, 10), 0, "/dev/null reads EOF");
	kfs_eq(SC(__NR_lseek, fd, 100, SEEK_SET_), 0, "/dev/null lseek: 0");
	SC(__NR_close, fd);
	fd = xopen("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	kfs_eq(SC(__NR_read, fd, buf, 64), 64, "/dev/zero read");
	kfs_ok(buf[0] == 0 && buf[63] == 0, "zeroes");
	struct file *f = fd_get((int)fd);
	bool mw;
	kfs_eq(vfs_mmap_check(f, 1, 2, &mw), 1, "mmap /dev/zero: anonymous");
	file_put(f);
	SC(__NR_close, fd);
	fd = xopen("/dev/full", O_WRONLY);
	kfs_eq(SC(__NR_write, fd, "x", 1), -ENOSPC, "/dev/full: ENOSPC");
	SC(__NR_close, fd);
	fd = xopen("/dev/urandom", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	kfs_eq(SC(__NR_read, fd, buf, 64), 64, "/dev/urandom read");
	int nz = 0;
	for (int i = 0; i < 64; i++)
		nz += buf[i] != 0;
	kfs_ok(nz > 32, "random bytes");
	kfs_eq(SC(__NR_read, fd, KFS_BAD, 8), -EFAULT, "bad buffer: EFAULT");
	SC(__NR_close, fd);
	fd = xopen("/dev/tty", O_RDWR);
	kfs_eq(SC(__NR_ioctl, fd, TCGETS, buf), -ENOTTY, "/dev/tty TCGETS");
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_readlink, "/dev/stdin", buf, sizeof(buf)), 15,
	       "readlink /dev/stdin");
	kfs_ok(memcmp(buf, "/proc/self/fd/0", 15) == 0, "-> /proc/self/fd/0");
	kfs_eq(SC(__NR_mknod, "/tmp/dev", S_IFCHR | 0600, 0x103), -EPERM,
	       "mknod a device: EPERM");
	kfs_eq(SC(__NR_mknod, "/tmp/regular", S_IFREG | 0600, 0), 0,
	       "mknod a regular file");
	fd = xopen("/dev/shm/seg", O_CREAT | O_RDWR);
	kfs_ok(fd >= 0, "/dev/shm is writable");
	SC(__NR_close, fd);
}

static void gen_cpuinfo(struct gen_buf *g)
{
	for (int i = 0; i < 2; i++)
		gen_printf(
		    g, "processor\t: %d\nmodel name\t: %s\n\n", i,
		    "kiln virtual cpu with a rather long model name that "
		    "needs more than the small buffer of gen_printf, "
		    "which is two hundred and fifty six bytes long, so "
		    "this line goes on for a while longer than that, and "
		    "then some more, and then some more again.");
}

static void test_proc(void)
{
	char buf[256];
	long fd, n;

	kfs_set_exe("/bin/prog");
	SC(__NR_mkdir, "/bin", 0755);
	fd = xopen("/bin/prog", O_CREAT | O_WRONLY);
	SC(__NR_write, fd, "\177ELF", 4);
	SC(__NR_close, fd);
	n = SC(__NR_readlink, "/proc/self/exe", buf, sizeof(buf));
	kfs_ok(n == 9 && memcmp(buf, "/bin/prog", 9) == 0,
	       "readlink /proc/self/exe gives the program path");
	kfs_eq(SC(__NR_readlink, "/proc/self/exe", buf, 4), 4,
	       "readlink truncates to the buffer");
	fd = xopen("/proc/self/exe", O_RDONLY);
	kfs_ok(fd >= 0, "open /proc/self/exe");
	kfs_ok(SC(__NR_read, fd, buf, 4) == 4 && memcmp(buf, "\177ELF", 4) == 0,
	       "it opens the program");
	SC(__NR_close, fd);

	fd = xopen("/tmp/../tmp/named", O_CREAT | O_RDWR);
	snprintf(buf, sizeof(buf), "/proc/self/fd/%ld", fd);
	char link[64];
	n = SC(__NR_readlink, buf, link, sizeof(link));
	kfs_ok(n == 10 && memcmp(link, "/tmp/named", 10) == 0,
	       "readlink /proc/self/fd/N gives the canonical path");
	n = SC(__NR_readlink, "/proc/self/fd/1", link, sizeof(link));
	kfs_ok(n == 12 && memcmp(link, "/dev/console", 12) == 0,
	       "fd 1 is /dev/console");
	SC(__NR_unlink, "/tmp/named");
	n = SC(__NR_readlink, buf, link, sizeof(link));
	kfs_ok(n == 20 && memcmp(link, "/tmp/named (deleted)", 20) == 0,
	       "a removed file shows ' (deleted)'");

	long dfd = xopen("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	char dbuf[1024];
	bool seen[16] = {false};
	n = SC(__NR_getdents64, dfd, dbuf, sizeof(dbuf));
	for (long off = 0; off < n;) {
		struct dirent64 *d = (struct dirent64 *)(dbuf + off);
		int v = 0;
		for (char *p = d->d_name; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + *p - '0';
		if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && v < 16)
			seen[v] = d->d_type == DT_LNK;
		off += d->d_reclen;
	}
	kfs_ok(seen[0] && seen[1] && seen[2] && seen[fd] && seen[dfd],
	       "/proc/self/fd lists the open descriptors as links");
	kfs_ok(!seen[fd + 2], "and not closed ones");
	SC(__NR_close, dfd);
	kfs_eq(SC(__NR_stat, "/proc/self/fd/77", buf), -ENOENT,
	       "closed fd: ENOENT");
	kfs_eq(SC(__NR_open, "/proc/self/fd/01", O_RDONLY), -ENOENT,
	       "non-canonical number: ENOENT");
	SC(__NR_close, fd);

	kfs_eq(procfs_add_file("/proc/cpuinfo", gen_cpuinfo), 0,
	       "procfs_add_file /proc/cpuinfo");
	kfs_eq(procfs_add_file("sys/kernel/hostname", gen_cpuinfo), 0,
	       "procfs_add_file creates parent directories");
	kfs_eq(procfs_add_file("cpuinfo", gen_cpuinfo), -EEXIST,
	       "procfs_add_file twice: EEXIST");
	fd = xopen("/proc/cpuinfo", O_RDONLY);
	n = SC(__NR_read, fd, buf, sizeof(buf));
	kfs_ok(n == (long)sizeof(buf) &&
		   memcmp(buf, "processor\t: 0\n", 14) == 0,
	       "generated file content");
	n = SC(__NR_lseek, fd, 0, SEEK_END_);
	kfs_ok(n > 2 * 256, "a long generated file (%ld bytes)", n);
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_access, "/proc/sys/kernel/hostname", 4), 0,
	       "nested generated file exists");

	fd = xopen("/proc/mounts", O_RDONLY);
	n = SC(__NR_read, fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	kfs_ok(n > 0 && kfs_contains(buf, "rootfs / "),
	       "/proc/mounts is generated text");
	kfs_eq(SC(__NR_lseek, fd, 0, SEEK_SET_), 0, "lseek a generated file");
	kfs_eq(SC(__NR_read, fd, buf, 6), 6, "read it again");
	SC(__NR_close, fd);
	kfs_eq(SC(__NR_open, "/proc/mounts", O_WRONLY), -EACCES,
	       "generated files are read-only");
	kfs_eq(SC(__NR_mkdir, "/proc/self/x", 0755), -EACCES,
	       "no new names in /proc");
	kfs_eq(SC(__NR_unlink, "/proc/self/exe"), -EACCES,
	       "no removal in /proc");
	SC(__NR_chdir, "/tmp");
	n = SC(__NR_readlink, "/proc/self/cwd", link, sizeof(link));
	kfs_ok(n == 4 && memcmp(link, "/tmp", 4) == 0, "/proc/self/cwd");
	SC(__NR_chdir, "/");
	struct statfs sf;
	kfs_eq(SC(__NR_statfs, "/proc/self", &sf), 0, "statfs /proc");
	kfs_eq(sf.f_type, 0x9fa0, "PROC_SUPER_MAGIC");
	kfs_eq(SC(__NR_statfs, "/tmp", &sf), 0, "statfs /tmp");
	kfs_ok(sf.f_type == 0x01021994 && sf.f_bsize == 4096 &&
		   sf.f_namelen == 255 && sf.f_blocks > 0,
	       "tmpfs-like statfs");
}

static bool pattern_ok(const uint8_t *p, size_t n, size_t base)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)((base + i) * 7))
			return false;
	return true;
}

static void test_regular(void)
{
	size_t big = 10000;
	uint8_t *w = kmalloc(big), *r = kzalloc(2 * big);
	struct stat st;
	long fd;

	for (size_t i = 0; i < big; i++)
		w[i] = (uint8_t)(i * 7);
	fd = xopen("/tmp/data", O_CREAT | O_RDWR | O_EXCL);
	kfs_ok(fd == 3, "lowest free descriptor is 3");
	kfs_eq(xopen("/tmp/data", O_CREAT | O_RDWR | O_EXCL), -EEXIST,
	       "O_EXCL on existing: EEXIST");
	kfs_eq(SC(__NR_write, fd, w, big), (long long)big, "write 10000 bytes");
	kfs_eq(SC(__NR_lseek, fd, 0, SEEK_CUR_), (long long)big,
	       "offset advanced");
	kfs_eq(SC(__NR_lseek, fd, 0, SEEK_SET_), 0, "rewind");
	kfs_eq(SC(__NR_read, fd, r, 2 * big), (long long)big, "read it back");
	kfs_ok(pattern_ok(r, big, 0), "content matches across pages");
	kfs_eq(SC(__NR_pread64, fd, r, 100, 4090), 100,
	       "pread64 across a page");
	kfs_ok(pattern_ok(r, 100, 4090), "pread64 content");
	kfs_eq(SC(__NR_pread64, fd, r, 10, -1), -EINVAL, "pread64 negative");
	kfs_eq(SC(__NR_lseek, fd, -1, SEEK_SET_), -EINVAL, "lseek negative");
	kfs_eq(SC(__NR_lseek, fd, 0, 7), -EINVAL, "lseek bad whence");
	kfs_eq(SC(__NR_lseek, fd, -10, SEEK_END_), (long long)big - 10,
	       "SEEK_END");
	kfs_eq(SC(__NR_lseek, fd, 5, SEEK_DATA_), 5, "SEEK_DATA");
	kfs_eq(SC(__NR_lseek, fd, 5, SEEK_HOLE_), (long long)big, "SEEK_HOLE");
	kfs_eq(SC(__NR_lseek, fd, (long)big, SEEK_DATA_), -ENXIO,
	       "SEEK_DATA at end: ENXIO");

	kfs_eq(SC(__NR_ftruncate, fd, 5000), 0, "ftruncate shrink");
	SC(__NR_fstat, fd, &st);
	kfs_eq((long long)st.st_size, 5000, "size 5000");
	kfs_eq(SC(__NR_ftruncate, fd, 20000), 0, "ftruncate grow");
	memset(r, 0xaa, 2 * big);
	kfs_eq(SC(__NR_pread64, fd, r, 20000, 0), 20000, "read grown file");
	bool zero = true;
	for (size_t i = 5000; i < 20000; i++)
		zero = zero && r[i] == 0;
	kfs_ok(pattern_ok(r, 5000, 0) && zero,
	       "old bytes kept, the extension reads as zeroes");
	kfs_eq(SC(__NR_ftruncate, fd, -1), -EINVAL, "ftruncate negative");
	kfs_eq(SC(__NR_truncate, "/tmp/data", 100), 0, "truncate by path");
	kfs_eq(SC(__NR_truncate, "/tmp", 100), -EISDIR, "truncate dir: EISDIR");
	kfs_eq(SC(__NR_truncate, "/dev/null", 0), -EINVAL,
	       "truncate a device: EINVAL");

	/* sparse: a write far past the end leaves a hole of zeroes */
	kfs_eq(SC(__NR_pwrite64, fd, "END", 3, 1 << 20), 3,
	       "pwrite64 at 1 MiB");
	SC(__NR_fstat, fd, &st);
	kfs_eq((long long)st.st_size, (1 << 20) + 3, "size after sparse write");
	memset(r, 1, 100);
	kfs_eq(SC(__NR_pread64, fd, r, 100, 500000), 100, "read in the hole");
	kfs_ok(r[0] == 0 && r[99] == 0, "the hole is zeroes");
	kfs_eq(SC(__NR_pwrite64, fd, "x", 1, FS_MAX_FILE_SIZE), -EFBIG,
	       "write past the size limit: EFBIG");

	long ro = xopen("/tmp/data", O_RDONLY);
	kfs_eq(SC(__NR_write, ro, "x", 1), -EBADF, "write to O_RDONLY: EBADF");
	kfs_eq(SC(__NR_ftruncate, ro, 0), -EINVAL,
	       "ftruncate O_RDONLY: EINVAL");
	struct file *f = fd_get((int)ro);
	bool mw = true;
	kfs_eq(vfs_mmap_check(f, 1, 2, &mw), 0, "mmap private read-only: ok");
	kfs_ok(!mw, "a read-only descriptor may not map shared writable");
	kfs_eq(vfs_mmap_check(f, 3, 1, &mw), -EACCES,
	       "mmap shared writable on O_RDONLY: EACCES");
	file_put(f);
	long wo = xopen("/tmp/data", O_WRONLY);
	kfs_eq(SC(__NR_read, wo, r, 1), -EBADF, "read from O_WRONLY: EBADF");
	f = fd_get((int)wo);
	kfs_eq(vfs_mmap_check(f, 1, 2, &mw), -EACCES, "mmap O_WRONLY: EACCES");
	file_put(f);
	f = fd_get(1);
	kfs_eq(vfs_mmap_check(f, 1, 2, &mw), -ENODEV,
	       "mmap the console: ENODEV");
	file_put(f);
	kfs_eq(SC(__NR_read, fd, KFS_BAD, 10), -EFAULT, "read to bad: EFAULT");
	kfs_eq(SC(__NR_read, 999, r, 1), -EBADF, "read bad fd: EBADF");
	kfs_eq(SC(__NR_read, -1, r, 1), -EBADF, "read fd -1: EBADF");
	kfs_eq(SC(__NR_fsync, fd), 0, "fsync a file");
	kfs_eq(SC(__NR_fdatasync, 999), -EBADF, "fdatasync bad fd: EBADF");
	long t = xopen("/tmp/data", O_RDWR | O_TRUNC);
	SC(__NR_fstat, t, &st);
	kfs_eq((long long)st.st_size, 0, "O_TRUNC empties the file");
	close_from(3);

	/* the kernel-side helpers the loader and boot code use */
	kfs_eq(vfs_write_file("/tmp/gen", "generated", 9, 0644), 0,
	       "vfs_write_file");
	kfs_eq(vfs_open("/tmp/gen", O_RDONLY, 0, &f), 0, "vfs_open");
	memset(r, 0, 16);
	kfs_eq(vfs_pread(f, r, 16, 3), 6, "vfs_pread");
	kfs_ok(memcmp(r, "erated", 6) == 0, "vfs_pread content");
	file_put(f);
	kfree(w);
	kfree(r);
}

static void test_append_and_dup(void)
{
	char buf[32] = {0};
	long a, b, d;

	a = xopen("/tmp/log", O_CREAT | O_WRONLY | O_APPEND);
	b = xopen("/tmp/log", O_WRONLY);
	SC(__NR_write, a, "111", 3);
	SC(__NR_write, b, "22", 2);  /* at offset 0 of b: overwrites */
	SC(__NR_write, a, "333", 3); /* appended after "221" */
	long r = xopen("/tmp/log", O_RDONLY);
	kfs_eq(SC(__NR_read, r, buf, sizeof(buf)), 6, "file length");
	kfs_ok(memcmp(buf, "221333", 6) == 0, "O_APPEND writes at the end");
	kfs_eq(SC(__NR_pwrite64, a, "X", 1, 0), 1, "pwrite64 on O_APPEND");
	SC(__NR_pread64, r, buf, 7, 0);
	kfs_ok(memcmp(buf, "221333X", 7) == 0,
	       "pwrite64 on O_APPEND appends, as on Linux");

	SC(__NR_lseek, r, 0, SEEK_SET_);
	d = SC(__NR_dup, r);
	kfs_ok(d > r, "dup gives a new descriptor");
	SC(__NR_read, r, buf, 3);
	kfs_eq(SC(__NR_lseek, d, 0, SEEK_CUR_), 3, "dup shares the offset");
	kfs_eq(SC(__NR_fcntl, d, F_GETFD), 0, "dup clears close-on-exec");
	kfs_eq(SC(__NR_dup2, r, 20), 20, "dup2 to 20");
	kfs_eq(SC(__NR_lseek, 20, 1, SEEK_CUR_), 4, "dup2 shares the offset");
	kfs_eq(SC(__NR_dup2, r, r), r, "dup2 to itself");
	kfs_eq(SC(__NR_dup2, 999, 21), -EBADF, "dup2 bad old: EBADF");
	kfs_eq(SC(__NR_dup2, r, MAX_FDS), -EBADF, "dup2 new too big: EBADF");
	kfs_eq(SC(__NR_dup3, r, 21, O_CLOEXEC), 21, "dup3 O_CLOEXEC");
	kfs_eq(SC(__NR_fcntl, 21, F_GETFD), FD_CLOEXEC, "close-on-exec set");
	kfs_eq(SC(__NR_dup3, r, r, 0), -EINVAL, "dup3 to itself: EINVAL");
	kfs_eq(SC(__NR_dup3, r, 22, 1), -EINVAL, "dup3 bad flags: EINVAL");
	kfs_eq(SC(__NR_dup2, a, 20), 20, "dup2 over an open fd closes it");
	kfs_eq(SC(__NR_fcntl, 20, F_GETFL) & O_APPEND, O_APPEND,
	       "20 is now the O_APPEND file");
	SC(__NR_close, b);
	kfs_eq(xopen("/tmp/log", O_RDONLY), b, "open reuses the lowest free");
	kfs_eq(SC(__NR_close, 999), -EBADF, "close bad: EBADF");
	kfs_eq(SC(__NR_close, b), 0, "close");
	kfs_eq(SC(__NR_close, b), -EBADF, "close twice: EBADF");

	/* fcntl */
	kfs_eq(SC(__NR_fcntl, a, F_GETFL), O_WRONLY | O_APPEND | O_LARGEFILE,
	       "F_GETFL");
	kfs_eq(SC(__NR_fcntl, a, F_SETFL, O_NONBLOCK | O_RDWR), 0, "F_SETFL");
	kfs_eq(SC(__NR_fcntl, a, F_GETFL), O_WRONLY | O_NONBLOCK | O_LARGEFILE,
	       "F_SETFL changes status flags, not the access mode");
	kfs_eq(SC(__NR_fcntl, a, F_DUPFD, 10), 10, "F_DUPFD >= 10");
	kfs_eq(SC(__NR_fcntl, a, F_DUPFD, 10), 11, "next F_DUPFD is 11");
	kfs_eq(SC(__NR_fcntl, a, F_DUPFD_CLOEXEC, 0) >= 0, 1,
	       "F_DUPFD_CLOEXEC");
	kfs_eq(SC(__NR_fcntl, a, F_DUPFD, MAX_FDS), -EINVAL,
	       "F_DUPFD too big: EINVAL");
	kfs_eq(SC(__NR_fcntl, a, F_SETFD, FD_CLOEXEC), 0, "F_SETFD");
	kfs_eq(SC(__NR_fcntl, a, F_GETFD), FD_CLOEXEC, "F_GETFD");
	struct flock fl = {.l_type = F_WRLCK, .l_whence = 0};
	kfs_eq(SC(__NR_fcntl, a, F_SETLK, &fl), 0, "F_SETLK accepted");
	kfs_eq(SC(__NR_fcntl, a, F_SETLKW, &fl), 0, "F_SETLKW accepted");
	/* The process's own POSIX lock conflicts with an OFD lock (another
	 * owner), as on Linux; test_locks has the rest. */
	kfs_eq(SC(__NR_fcntl, a, F_OFD_SETLK, &fl), -EAGAIN,
	       "F_OFD_SETLK over the process's POSIX lock: EAGAIN");
	kfs_eq(SC(__NR_fcntl, a, F_GETLK, &fl), 0, "F_GETLK");
	kfs_eq(fl.l_type, F_UNLCK,
	       "F_GETLK: the process's own locks do not count");
	fl.l_type = F_UNLCK;
	kfs_eq(SC(__NR_fcntl, a, F_SETLK, &fl), 0, "F_SETLK F_UNLCK");
	fl.l_type = F_WRLCK;
	kfs_eq(SC(__NR_fcntl, a, F_OFD_SETLK, &fl), 0, "then F_OFD_SETLK");
	fl.l_type = F_RDLCK;
	kfs_eq(SC(__NR_fcntl, a, F_SETLK, &fl), -EBADF,
	       "read lock on a write-only fd: EBADF");
	fl.l_type = 9;
	kfs_eq(SC(__NR_fcntl, a, F_SETLK, &fl), -EINVAL, "bad lock type");
	kfs_eq(SC(__NR_fcntl, a, F_SETLK, KFS_BAD), -EFAULT,
	       "bad flock: EFAULT");
	kfs_eq(SC(__NR_fcntl, a, 1032 /* F_GETPIPE_SZ */), -EINVAL,
	       "F_GETPIPE_SZ on a file: EINVAL");
	kfs_eq(SC(__NR_fcntl, a, 9999), -EINVAL, "unknown fcntl: EINVAL");
	kfs_eq(SC(__NR_fcntl, 999, F_GETFD), -EBADF, "fcntl bad fd: EBADF");
	kfs_eq(SC(__NR_flock, a, 2), 0, "flock LOCK_EX");
	kfs_eq(SC(__NR_flock, a, 3), -EINVAL, "flock bad op: EINVAL");

	/* ioctl */
	int on = 0;
	kfs_eq(SC(__NR_ioctl, a, 0x5421 /* FIONBIO */, &on), 0, "FIONBIO 0");
	kfs_eq(SC(__NR_fcntl, a, F_GETFL) & O_NONBLOCK, 0, "O_NONBLOCK clear");
	kfs_eq(SC(__NR_ioctl, a, 0x5450 /* FIONCLEX */), 0, "FIONCLEX");
	kfs_eq(SC(__NR_fcntl, a, F_GETFD), 0, "close-on-exec cleared");
	kfs_eq(SC(__NR_ioctl, a, 0x5451 /* FIOCLEX */), 0, "FIOCLEX");
	kfs_eq(SC(__NR_fcntl, a, F_GETFD), FD_CLOEXEC, "close-on-exec set");
	kfs_eq(SC(__NR_ioctl, a, TCGETS, &on), -ENOTTY, "TCGETS on a file");
	kfs_eq(SC(__NR_ioctl, a, 0x5421, KFS_BAD), -EFAULT, "FIONBIO bad ptr");
	SC(__NR_lseek, r, 2, SEEK_SET_);
	kfs_eq(SC(__NR_ioctl, r, FIONREAD, &on), 0, "FIONREAD");
	kfs_eq(on, 5, "FIONREAD gives the bytes left");

	kfs_eq(SC(__NR_close_range, 10, 5, 0), -EINVAL, "close_range lo > hi");
	kfs_eq(SC(__NR_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), 0,
	       "close_range CLOSE_RANGE_CLOEXEC");
	kfs_eq(SC(__NR_fcntl, 20, F_GETFD), FD_CLOEXEC, "marked close-on-exec");
	kfs_eq(SC(__NR_close_range, 3, ~0U, 0), 0, "close_range");
	kfs_eq(SC(__NR_fcntl, 20, F_GETFD), -EBADF, "closed");
	kfs_eq(SC(__NR_fcntl, 2, F_GETFD), 0, "fd 2 untouched");
}

static void test_vectors(void)
{
	char a[4], b[8];
	struct iovec iov[3] = {
	    {(void *)"abc", 3}, {(void *)"", 0}, {(void *)"defgh", 5}};
	struct iovec big[2] = {{a, (size_t)INT64_MAX}, {b, 2}};
	struct iovec neg[1] = {{a, (size_t)-1}};
	struct iovec bad[1] = {{KFS_BAD, 4}};
	long fd = xopen("/tmp/vec", O_CREAT | O_RDWR | O_TRUNC);

	kfs_eq(SC(__NR_writev, fd, iov, 3), 8, "writev of three iovecs");
	SC(__NR_lseek, fd, 0, SEEK_SET_);
	struct iovec riov[2] = {{a, 4}, {b, 8}};
	kfs_eq(SC(__NR_readv, fd, riov, 2), 8, "readv");
	kfs_ok(memcmp(a, "abcd", 4) == 0 && memcmp(b, "efgh", 4) == 0,
	       "readv fills in order");
	kfs_eq(SC(__NR_writev, fd, iov, 1025), -EINVAL, "1025 iovecs: EINVAL");
	kfs_eq(SC(__NR_writev, fd, iov, -1), -EINVAL, "negative count: EINVAL");
	kfs_eq(SC(__NR_writev, fd, big, 2), -EINVAL,
	       "total length overflow: EINVAL");
	kfs_eq(SC(__NR_readv, fd, neg, 1), -EINVAL, "negative length: EINVAL");
	kfs_eq(SC(__NR_readv, fd, KFS_BAD, 1), -EFAULT,
	       "bad iov array: EFAULT");
	kfs_eq(SC(__NR_writev, fd, bad, 1), -EFAULT, "bad iov base: EFAULT");
	kfs_eq(SC(__NR_writev, fd, iov, 0), 0, "zero iovecs");
	kfs_eq(SC(__NR_pwritev, fd, iov, 3, 100), 8, "pwritev");
	kfs_eq(SC(__NR_preadv, fd, riov, 2, 100), 8, "preadv");
	kfs_ok(memcmp(a, "abcd", 4) == 0, "preadv content");
	kfs_eq(SC(__NR_preadv, fd, riov, 2, -5), -EINVAL, "preadv negative");
	kfs_eq(SC(__NR_preadv, 1, riov, 2, 0), -ESPIPE, "preadv console");
	kfs_eq(SC(__NR_preadv2, fd, riov, 1, -1, 0, 0), 4,
	       "preadv2 offset -1 uses the file position");
	kfs_eq(SC(__NR_pwritev2, fd, iov, 1, 0, 0, 0x10 /* RWF_APPEND */),
	       -EOPNOTSUPP, "pwritev2 RWF_APPEND: EOPNOTSUPP");
	SC(__NR_close, fd);
}

static void test_getdents(void)
{
	char name[16], buf[4096];
	int count[60] = {0};
	int dots = 0, total = 0, calls = 0;
	long fd, n;

	SC(__NR_mkdir, "/tmp/many", 0755);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "/tmp/many/f%d", i);
		SC(__NR_close, xopen(name, O_CREAT | O_WRONLY));
	}
	SC(__NR_mkdir, "/tmp/many/sub", 0755);
	fd = xopen("/tmp/many", O_RDONLY | O_DIRECTORY);
	kfs_eq(SC(__NR_getdents64, fd, buf, 10), -EINVAL,
	       "buffer too small for one entry: EINVAL");
	/* 32 bytes hold one short entry: many calls, removal in between */
	while ((n = SC(__NR_getdents64, fd, buf, 32)) > 0) {
		calls++;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			int v;
			total++;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0) {
				dots++;
				kfs_ok(d->d_type == DT_DIR, "'%s' is DT_DIR",
				       d->d_name);
			} else if (strcmp(d->d_name, "sub") == 0) {
				kfs_ok(d->d_type == DT_DIR, "sub is DT_DIR");
			} else if (d->d_name[0] == 'f') {
				v = 0;
				for (char *p = d->d_name + 1; *p; p++)
					v = v * 10 + *p - '0';
				if (v >= 0 && v < 60) {
					count[v]++;
					if (d->d_type != DT_REG)
						count[v] += 100;
				}
			}
			off += d->d_reclen;
		}
		if (calls == 10)
			SC(__NR_unlink, "/tmp/many/f3"); /* already listed */
		if (calls == 11)
			SC(__NR_unlink, "/tmp/many/f40"); /* not yet listed */
	}
	kfs_eq(n, 0, "getdents64 ends with 0");
	bool once = true;
	for (int i = 0; i < 50; i++)
		if (i != 40 && count[i] != 1)
			once = false;
	kfs_ok(once && count[40] == 0 && dots == 2,
	       "every entry exactly once, removed ones skipped");
	kfs_eq(total, 52, "53 entries less the one removed before listed");
	kfs_eq(SC(__NR_lseek, fd, 0, SEEK_SET_), 0, "rewind a directory");
	n = SC(__NR_getdents64, fd, buf, sizeof(buf));
	kfs_ok(n > 0 && strcmp(((struct dirent64 *)buf)->d_name, ".") == 0,
	       "listing starts again at '.'");
	SC(__NR_lseek, fd, 0, SEEK_SET_);
	kfs_eq(SC(__NR_getdents64, fd, KFS_BAD, 100), -EFAULT,
	       "getdents64 bad buffer: EFAULT");
	kfs_eq(SC(__NR_read, fd, buf, 10), -EISDIR, "read a dir: EISDIR");
	kfs_eq(xopen("/tmp/many", O_WRONLY), -EISDIR, "open dir for writing");
	kfs_eq(xopen("/tmp/many/f1", O_RDONLY | O_DIRECTORY), -ENOTDIR,
	       "O_DIRECTORY on a file: ENOTDIR");
	long ffd = xopen("/tmp/many/f1", O_RDONLY);
	kfs_eq(SC(__NR_getdents64, ffd, buf, sizeof(buf)), -ENOTDIR,
	       "getdents64 on a file: ENOTDIR");
	SC(__NR_lseek, fd, 0, SEEK_SET_);
	n = SC(__NR_getdents, fd, buf, sizeof(buf));
	kfs_ok(n > 0 && strcmp(buf + 18, ".") == 0 && buf[23] == DT_DIR,
	       "old getdents: name after d_reclen, d_type in the last byte");
	SC(__NR_close, ffd);
	SC(__NR_close, fd);
	kfs_eq(xopen("/tmp/x", O_TMPFILE | O_RDWR), -EOPNOTSUPP,
	       "O_TMPFILE: EOPNOTSUPP");
	kfs_eq(xopen("/tmp/x", O_CREAT | O_DIRECTORY), -EINVAL,
	       "O_CREAT|O_DIRECTORY: EINVAL");
	kfs_eq(xopen("/tmp/many/", O_CREAT | O_RDWR), -EISDIR,
	       "O_CREAT on a dir: EISDIR");
}

static void test_copying(void)
{
	long in = xopen("/tmp/src", O_CREAT | O_RDWR | O_TRUNC);
	long out;
	int64_t off = 2;
	char buf[32] = {0};

	SC(__NR_write, in, "sendfile data\n", 14);
	SC(__NR_lseek, in, 0, SEEK_SET_);
	kfs_console_reset();
	kfs_eq(SC(__NR_sendfile, 1, in, NULL, 100), 14, "sendfile to console");
	kfs_ok(strcmp(kfs_console(), "sendfile data\n") == 0,
	       "console got the file");
	kfs_eq(SC(__NR_lseek, in, 0, SEEK_CUR_), 14, "input offset advanced");
	kfs_console_reset();
	kfs_eq(SC(__NR_sendfile, 1, in, &off, 4), 4, "sendfile with offset");
	kfs_ok(strcmp(kfs_console(), "ndfi") == 0 && off == 6,
	       "bytes at the offset, offset updated");
	kfs_eq(SC(__NR_lseek, in, 0, SEEK_CUR_), 14, "file offset untouched");
	out = xopen("/tmp/dst", O_CREAT | O_RDWR | O_TRUNC);
	off = 0;
	kfs_eq(SC(__NR_sendfile, out, in, &off, 100), 14,
	       "sendfile file->file");
	kfs_eq(SC(__NR_sendfile, out, in, KFS_BAD, 1), -EFAULT,
	       "sendfile bad offset: EFAULT");
	long wo = xopen("/tmp/src", O_WRONLY);
	kfs_eq(SC(__NR_sendfile, out, wo, NULL, 1), -EBADF,
	       "sendfile from a write-only fd: EBADF");
	SC(__NR_close, wo);
	long app = xopen("/tmp/dst", O_WRONLY | O_APPEND);
	kfs_eq(SC(__NR_sendfile, app, in, NULL, 1), -EINVAL,
	       "sendfile to O_APPEND: EINVAL");
	SC(__NR_close, app);
	int64_t oi = 0, oo = 20;
	kfs_eq(SC(__NR_copy_file_range, in, &oi, out, &oo, 8, 0), 8,
	       "copy_file_range");
	kfs_eq(SC(__NR_pread64, out, buf, 8, 20), 8, "read the copy");
	kfs_ok(memcmp(buf, "sendfile", 8) == 0 && oi == 8 && oo == 28,
	       "copied bytes and offsets");
	kfs_eq(SC(__NR_copy_file_range, in, &oi, out, &oo, 8, 1), -EINVAL,
	       "copy_file_range flags: EINVAL");
	oi = 0;
	oo = 4;
	kfs_eq(SC(__NR_copy_file_range, in, &oi, in, &oo, 8, 0), -EINVAL,
	       "overlapping copy in one file: EINVAL");

	struct stat st;
	kfs_eq(SC(__NR_fallocate, out, 0, 0, 100000), 0, "fallocate extends");
	SC(__NR_fstat, out, &st);
	kfs_eq((long long)st.st_size, 100000, "size after fallocate");
	kfs_eq(SC(__NR_fallocate, out, FALLOC_FL_KEEP_SIZE, 0, 200000), 0,
	       "fallocate KEEP_SIZE");
	SC(__NR_fstat, out, &st);
	kfs_eq((long long)st.st_size, 100000, "size unchanged");
	kfs_eq(SC(__NR_fallocate, out,
		  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4),
	       0, "punch a hole");
	SC(__NR_pread64, out, buf, 4, 0);
	kfs_ok(buf[0] == 0 && buf[3] == 0, "the hole reads zero");
	kfs_eq(SC(__NR_fallocate, out, 0x40, 0, 1), -EOPNOTSUPP,
	       "unsupported fallocate mode");
	kfs_eq(SC(__NR_fallocate, out, 0, 0, 0), -EINVAL, "fallocate len 0");
	kfs_eq(SC(__NR_fadvise64, out, 0, 0, 4), 0, "fadvise64 accepted");
	kfs_eq(SC(__NR_fadvise64, out, 0, 0, 99), -EINVAL, "bad advice");
	kfs_eq(SC(__NR_fadvise64, 1, 0, 0, 0), -ESPIPE, "fadvise64 console");
	kfs_eq(SC(__NR_getxattr, "/tmp/src", "user.x", buf, 4), -ENODATA,
	       "getxattr: ENODATA");
	kfs_eq(SC(__NR_listxattr, "/tmp/src", buf, 4), 0, "listxattr: none");
	kfs_eq(SC(__NR_getxattr, "/nope", "user.x", buf, 4), -ENOENT,
	       "getxattr missing file: ENOENT");
	kfs_eq(SC(__NR_sync), 0, "sync");
	kfs_eq(SC(__NR_syncfs, out), 0, "syncfs");
	close_from(3);
}

/* The pages MAP_SHARED maps are the file's own: stores through them are
 * the file's content, writes show in them, and what a mapping stored past
 * the end of the file is not there when the file grows. */
static void test_shared_pages(void)
{
	char r[16];
	void *pg, *pg2;
	long fd = xopen("/tmp/shared", O_CREAT | O_RDWR);
	struct file *f = fd_get((int)fd);

	kfs_eq(vfs_mmap_page(f, 0, &pg), -ENXIO, "empty file: no page 0");
	kfs_eq(SC(__NR_pwrite64, fd, "hello", 5, 0), 5, "write 5 bytes");
	kfs_eq(vfs_mmap_page(f, 0, &pg), 0, "page 0 of a 5-byte file");
	kfs_eq(vfs_mmap_page(f, PAGE_SIZE, &pg2), -ENXIO,
	       "page 1 is past the end: ENXIO (SIGBUS on Linux)");
	kfs_ok(memcmp(pg, "hello", 5) == 0, "the page holds the file's bytes");
	memcpy(pg, "J", 1);
	kfs_eq(SC(__NR_pread64, fd, r, 5, 0), 5, "pread");
	kfs_ok(memcmp(r, "Jello", 5) == 0, "a store to the page is the file's");
	kfs_eq(SC(__NR_pwrite64, fd, "y", 1, 4), 1, "pwrite");
	kfs_ok(((char *)pg)[4] == 'y', "a write shows in the page");
	memcpy((char *)pg + 5, "past", 4); /* beyond the end of the file */
	kfs_eq(SC(__NR_ftruncate, fd, 12), 0, "grow the file");
	kfs_eq(SC(__NR_pread64, fd, r, 12, 0), 12, "pread after growing");
	kfs_ok(memcmp(r, "Jelly\0\0\0\0\0\0\0", 12) == 0,
	       "stores past the end did not become file data");
	kfs_eq(vfs_mmap_page(f, 0, &pg2), 0, "page 0 again");
	kfs_ok(pg2 == pg, "the same page every time");
	kfs_ok(vfs_mmap_key(f) != NULL, "a file has a mapping key");
	file_put(f);
	SC(__NR_close, fd);
	fd = xopen("/dev/zero", O_RDONLY);
	f = fd_get((int)fd);
	kfs_eq(vfs_mmap_page(f, 0, &pg), -ENODEV, "no file pages for a device");
	file_put(f);
	SC(__NR_close, fd);
	SC(__NR_unlink, "/tmp/shared");
}

/* F_GETLK on fd for [start, start+len) as a write lock: the conflicting
 * lock's type, and its start, length and pid in *out. */
static int getlk(long fd, int cmd, long start, long len, struct flock *out)
{
	memset(out, 0, sizeof(*out));
	out->l_type = F_WRLCK;
	out->l_start = start;
	out->l_len = len;
	if (SC(__NR_fcntl, fd, cmd, out) != 0)
		return -1;
	return out->l_type;
}

static long setlk(long fd, int cmd, int type, int whence, long start, long len)
{
	struct flock fl = {.l_type = (short)type,
			   .l_whence = (short)whence,
			   .l_start = start,
			   .l_len = len};
	return SC(__NR_fcntl, fd, cmd, &fl);
}

static void test_locks(void)
{
	struct flock got;
	long a = xopen("/tmp/locked", O_CREAT | O_RDWR);
	long b = xopen("/tmp/locked", O_RDWR);
	long c = xopen("/tmp/locked", O_RDONLY);
	char pad[100] = {0};

	SC(__NR_write, a, pad, sizeof(pad));
	/* POSIX locks belong to the process. */
	kfs_eq(setlk(a, F_SETLK, F_WRLCK, 0, 0, 100), 0, "POSIX lock 0-99");
	kfs_eq(getlk(b, F_GETLK, 0, 0, &got), F_UNLCK,
	       "F_GETLK from another descriptor: the process's own lock");
	kfs_eq(setlk(b, F_SETLK, F_WRLCK, 0, 50, 10), 0,
	       "POSIX lock through another descriptor: same owner");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 50, 10), -EAGAIN,
	       "an OFD lock over it: EAGAIN");
	kfs_eq(getlk(b, F_OFD_GETLK, 55, 1, &got), F_WRLCK,
	       "F_OFD_GETLK finds the POSIX lock");
	kfs_ok(got.l_start == 0 && got.l_len == 100 && got.l_pid == 1,
	       "merged 0-99, pid 1");
	SC(__NR_close, c); /* POSIX: any close drops the process's locks */
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 50, 10), 0,
	       "closing another descriptor dropped the POSIX locks");

	/* OFD locks belong to the open file description. */
	kfs_eq(getlk(a, F_OFD_GETLK, 0, 10, &got), F_UNLCK,
	       "no conflict outside the OFD lock's range");
	kfs_eq(getlk(a, F_OFD_GETLK, 0, 0, &got), F_WRLCK,
	       "a conflict with the OFD lock 50-59");
	kfs_ok(got.l_start == 50 && got.l_len == 10 && got.l_pid == -1,
	       "reported as 50+10, pid -1");
	kfs_eq(setlk(a, F_SETLK, F_RDLCK, 0, 55, 1), -EAGAIN,
	       "a POSIX read lock over the OFD write lock: EAGAIN");
	long d = SC(__NR_dup, b);
	kfs_eq(setlk(d, F_OFD_SETLK, F_RDLCK, 0, 0, 0), 0,
	       "a dup'ed descriptor is the same owner");
	kfs_eq(getlk(a, F_OFD_GETLK, 0, 0, &got), F_RDLCK,
	       "its read lock replaced the write lock");
	kfs_ok(got.l_start == 0 && got.l_len == 0, "over the whole file");
	kfs_eq(setlk(a, F_OFD_SETLK, F_RDLCK, 0, 0, 0), 0, "read locks share");
	kfs_eq(setlk(d, F_OFD_SETLK, F_UNLCK, 0, 0, 0), 0, "unlock");
	SC(__NR_close, d);

	/* Splitting, merging, SEEK_END and negative lengths. */
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0, 100), -EAGAIN,
	       "b: write lock while a reads: EAGAIN");
	kfs_eq(setlk(a, F_OFD_SETLK, F_UNLCK, 0, 0, 0), 0, "a: unlock all");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0, 100), 0, "b: write 0-99");
	kfs_eq(setlk(b, F_OFD_SETLK, F_UNLCK, 0, 40, 20), 0, "b: unlock 40-59");
	kfs_eq(getlk(a, F_OFD_GETLK, 45, 1, &got), F_UNLCK, "45 is free");
	kfs_eq(getlk(a, F_OFD_GETLK, 30, 1, &got), F_WRLCK, "30 is locked");
	kfs_ok(got.l_start == 0 && got.l_len == 40, "by the piece 0-39");
	kfs_eq(getlk(a, F_OFD_GETLK, 70, 1, &got), F_WRLCK, "70 is locked");
	kfs_ok(got.l_start == 60 && got.l_len == 40, "by the piece 60-99");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 40, 20), 0,
	       "b: lock 40-59 again");
	kfs_eq(getlk(a, F_OFD_GETLK, 45, 1, &got), F_WRLCK, "45 is locked");
	kfs_ok(got.l_start == 0 && got.l_len == 100,
	       "the three pieces merged into 0-99");
	kfs_eq(setlk(b, F_OFD_SETLK, F_UNLCK, 0, 0, 0), 0, "b: unlock all");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 2 /* SEEK_END */, -10, 0), 0,
	       "b: lock from 10 before the end on");
	kfs_eq(getlk(a, F_OFD_GETLK, 0, 0, &got), F_WRLCK, "found");
	kfs_ok(got.l_start == 90 && got.l_len == 0, "90 to infinity");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 20, -10), 0,
	       "b: a negative length locks 10-19");
	kfs_eq(getlk(a, F_OFD_GETLK, 0, 15, &got), F_WRLCK, "found");
	kfs_ok(got.l_start == 10 && got.l_len == 10, "10+10");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 0, -1, 5), -EINVAL,
	       "a negative start: EINVAL");
	kfs_eq(setlk(b, F_OFD_SETLK, F_WRLCK, 7, 0, 5), -EINVAL,
	       "a bad whence: EINVAL");
	SC(__NR_close, b); /* the description's last reference */
	kfs_eq(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 0, 0), 0,
	       "closing the last descriptor of b released its locks");

	/* flock: per description, its own namespace. */
	b = xopen("/tmp/locked", O_RDONLY);
	kfs_eq(SC(__NR_flock, b, 2 | 4), 0,
	       "flock LOCK_EX beside an OFD record lock (no conflict)");
	kfs_eq(SC(__NR_flock, a, 2 | 4), -EWOULDBLOCK,
	       "flock LOCK_EX|LOCK_NB from another open: EWOULDBLOCK");
	kfs_eq(SC(__NR_flock, a, 1 | 4), -EWOULDBLOCK, "LOCK_SH too");
	kfs_eq(SC(__NR_flock, b, 8), 0, "LOCK_UN");
	kfs_eq(SC(__NR_flock, a, 1), 0, "then LOCK_SH (blocking, free)");
	kfs_eq(SC(__NR_flock, b, 1 | 4), 0, "and another LOCK_SH");
	kfs_eq(SC(__NR_flock, a, 2 | 4), -EWOULDBLOCK,
	       "upgrading to LOCK_EX while shared: EWOULDBLOCK");
	kfs_eq(SC(__NR_flock, b, 8), 0, "b: LOCK_UN");
	kfs_eq(SC(__NR_flock, a, 2 | 4), 0, "a: LOCK_EX now");
	long e = xopen("/dev/null", O_RDONLY | O_PATH);
	kfs_eq(SC(__NR_flock, e, 2), -EBADF, "flock on O_PATH: EBADF");
	SC(__NR_close, e);
	SC(__NR_close, a);
	kfs_eq(SC(__NR_flock, b, 2 | 4), 0,
	       "closing a released its flock lock");
	SC(__NR_close, b);
	SC(__NR_unlink, "/tmp/locked");
}

static void test_emfile(void)
{
	long fd, last = -1;
	int opened = 0;

	while ((fd = xopen("/dev/null", O_RDONLY)) >= 0) {
		last = fd;
		opened++;
	}
	kfs_eq(fd, -EMFILE, "descriptor table full: EMFILE");
	kfs_eq(last, MAX_FDS - 1, "every slot up to MAX_FDS - 1 was used");
	kfs_eq(SC(__NR_dup, 0), -EMFILE, "dup when full: EMFILE");
	close_from(3);
	kfs_eq(xopen("/dev/null", O_RDONLY), 3, "slots free again");
	close_from(3);
}

int main(void)
{
	kfs_eq(fs_init(NULL, 0), 0, "fs_init");
	test_console();
	test_devices();
	test_proc();
	test_regular();
	test_append_and_dup();
	test_vectors();
	test_getdents();
	test_copying();
	test_shared_pages();
	test_locks();
	test_emfile();
	return kfs_done("kfs_io");
}
