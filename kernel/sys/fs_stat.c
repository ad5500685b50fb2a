/*
 * Attribute queries: stat, fstat, lstat, newfstatat, statx, statfs,
 * fstatfs, access, faccessat, faccessat2, readlink, readlinkat.  struct
 * stat is the x86_64 kernel layout from <asm/stat.h> (what glibc and musl
 * pass to fstat/newfstatat), struct statx the one from <linux/stat.h>.
 */
/* before kernel.h, whose __unused macro would clobber a field name */
#include <asm/stat.h>

#include "../fs/vfs.h"

#include "mm.h"
#include "syscall.h"
#include "uaccess.h"

#include <asm/statfs.h>

/* Linux's new_encode_dev, what st_dev and st_rdev hold. */
static uint64_t dev_encode(uint32_t major, uint32_t minor)
{
	return (minor & 0xffu) | ((uint64_t)major << 8) |
	       ((uint64_t)(minor & ~0xffu) << 12);
}

static long stat_copy_out(const struct kstat *ks, struct stat *ust)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = dev_encode(ks->dev_major, ks->dev_minor);
	st.st_ino = ks->ino;
	st.st_nlink = ks->nlink;
	st.st_mode = ks->mode;
	st.st_uid = ks->uid;
	st.st_gid = ks->gid;
	st.st_rdev = dev_encode(ks->rdev_major, ks->rdev_minor);
	st.st_size = ks->size;
	st.st_blksize = ks->blksize;
	st.st_blocks = ks->blocks;
	st.st_atime = (unsigned long)ks->atime.sec;
	st.st_atime_nsec = (unsigned long)ks->atime.nsec;
	st.st_mtime = (unsigned long)ks->mtime.sec;
	st.st_mtime_nsec = (unsigned long)ks->mtime.nsec;
	st.st_ctime = (unsigned long)ks->ctime.sec;
	st.st_ctime_nsec = (unsigned long)ks->ctime.nsec;
	return copy_to_user(ust, &st, sizeof(st));
}

/* Stats path (a user pointer; NULL allowed with AT_EMPTY_PATH) from
 * dirfd. */
static long do_stat(int dirfd, const char *upath, int at_flags,
		    struct kstat *ks)
{
	char *path;
	long err;

	if (!upath && (at_flags & AT_EMPTY_PATH))
		return vfs_stat_at(dirfd, "", at_flags, ks);
	err = fs_user_path(upath, &path);
	if (err)
		return err;
	err = vfs_stat_at(dirfd, path, at_flags, ks);
	kfree(path);
	return err;
}

static long sys_stat(const char *path, struct stat *ust)
{
	struct kstat ks;
	long err = do_stat(AT_FDCWD, path, 0, &ks);
	return err ? err : stat_copy_out(&ks, ust);
}
SYSCALL_REGISTER(__NR_stat, stat, sys_stat);

static long sys_lstat(const char *path, struct stat *ust)
{
	struct kstat ks;
	long err = do_stat(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, &ks);
	return err ? err : stat_copy_out(&ks, ust);
}
SYSCALL_REGISTER(__NR_lstat, lstat, sys_lstat);

static long sys_fstat(int fd, struct stat *ust)
{
	struct file *f = fd_get(fd);
	struct kstat ks;
	long err;

	if (!f)
		return -EBADF;
	err = vfs_fstat(f, &ks);
	file_put(f);
	return err ? err : stat_copy_out(&ks, ust);
}
SYSCALL_REGISTER(__NR_fstat, fstat, sys_fstat);

static long sys_newfstatat(int dirfd, const char *path, struct stat *ust,
			   int flags)
{
	struct kstat ks;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	err = do_stat(dirfd, path, flags, &ks);
	return err ? err : stat_copy_out(&ks, ust);
}
SYSCALL_REGISTER(__NR_newfstatat, newfstatat, sys_newfstatat);

static void statx_time(struct statx_timestamp *t, const struct fs_time *ft)
{
	t->tv_sec = ft->sec;
	t->tv_nsec = (uint32_t)ft->nsec;
}

static long sys_statx(int dirfd, const char *path, int flags, unsigned int mask,
		      struct statx *ubuf)
{
	struct kstat ks;
	struct statx sx;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH |
		      AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	err = do_stat(dirfd, path, flags & ~AT_STATX_SYNC_TYPE, &ks);
	if (err)
		return err;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS | STATX_BTIME;
	sx.stx_blksize = (uint32_t)ks.blksize;
	sx.stx_nlink = (uint32_t)ks.nlink;
	sx.stx_uid = ks.uid;
	sx.stx_gid = ks.gid;
	sx.stx_mode = (uint16_t)ks.mode;
	sx.stx_ino = ks.ino;
	sx.stx_size = (uint64_t)ks.size;
	sx.stx_blocks = (uint64_t)ks.blocks;
	statx_time(&sx.stx_atime, &ks.atime);
	statx_time(&sx.stx_btime, &ks.btime);
	statx_time(&sx.stx_ctime, &ks.ctime);
	statx_time(&sx.stx_mtime, &ks.mtime);
	sx.stx_rdev_major = ks.rdev_major;
	sx.stx_rdev_minor = ks.rdev_minor;
	sx.stx_dev_major = ks.dev_major;
	sx.stx_dev_minor = ks.dev_minor;
	return copy_to_user(ubuf, &sx, sizeof(sx));
}
SYSCALL_REGISTER(__NR_statx, statx, sys_statx);

/* statfs for the filesystem an inode lives on: tmpfs-like numbers sized
 * by guest memory, or procfs's zeroes. */
static long statfs_copy_out(struct inode *ino, struct statfs *ubuf)
{
	struct statfs sf;

	memset(&sf, 0, sizeof(sf));
	sf.f_type = (long)ino->sb->magic;
	sf.f_bsize = PAGE_SIZE;
	sf.f_frsize = PAGE_SIZE;
	sf.f_namelen = MAX_NAME;
	sf.f_fsid.val[1] = (int)ino->sb->dev_minor;
	if (ino->sb == &ramfs_super) {
		sf.f_blocks = (long)(phys_total_bytes() / PAGE_SIZE);
		sf.f_bfree = (long)(phys_free_bytes() / PAGE_SIZE);
		sf.f_bavail = sf.f_bfree;
		sf.f_files = sf.f_blocks;
		sf.f_ffree = sf.f_bfree;
		sf.f_flags = 0x0020 | 0x0400; /* ST_VALID | ST_RELATIME */
	} else {
		sf.f_flags = 0x0020 | 0x0002 | 0x0004 | 0x0008; /* nosuid.. */
	}
	return copy_to_user(ubuf, &sf, sizeof(sf));
}

static long sys_statfs(const char *upath, struct statfs *ubuf)
{
	struct inode *ino;
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_lookup_at(AT_FDCWD, path, 0, &ino);
	kfree(path);
	return err ? err : statfs_copy_out(ino, ubuf);
}
SYSCALL_REGISTER(__NR_statfs, statfs, sys_statfs);

static long sys_fstatfs(int fd, struct statfs *ubuf)
{
	struct file *f = fd_get(fd);
	long err;

	if (!f)
		return -EBADF;
	err = statfs_copy_out(f->inode ? f->inode : fs_root, ubuf);
	file_put(f);
	return err;
}
SYSCALL_REGISTER(__NR_fstatfs, fstatfs, sys_fstatfs);

static long do_access(int dirfd, const char *upath, int mode, int flags)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_access_at(dirfd, path, mode, flags);
	kfree(path);
	return err;
}

static long sys_access(const char *path, int mode)
{
	return do_access(AT_FDCWD, path, mode, 0);
}
SYSCALL_REGISTER(__NR_access, access, sys_access);

static long sys_faccessat(int dirfd, const char *path, int mode)
{
	return do_access(dirfd, path, mode, 0);
}
SYSCALL_REGISTER(__NR_faccessat, faccessat, sys_faccessat);

static long sys_faccessat2(int dirfd, const char *path, int mode, int flags)
{
	return do_access(dirfd, path, mode, flags);
}
SYSCALL_REGISTER(__NR_faccessat2, faccessat2, sys_faccessat2);

static long do_readlink(int dirfd, const char *upath, char *ubuf, int size)
{
	char *path, *kbuf;
	long r;

	if (size <= 0)
		return -EINVAL;
	r = fs_user_path(upath, &path);
	if (r)
		return r;
	kbuf = kmalloc(MAX_PATH);
	if (!kbuf) {
		kfree(path);
		return -ENOMEM;
	}
	r = vfs_readlink_at(dirfd, path, kbuf, MIN((size_t)size, MAX_PATH));
	if (r > 0 && copy_to_user(ubuf, kbuf, (size_t)r))
		r = -EFAULT;
	kfree(kbuf);
	kfree(path);
	return r;
}

static long sys_readlink(const char *path, char *buf, int size)
{
	return do_readlink(AT_FDCWD, path, buf, size);
}
SYSCALL_REGISTER(__NR_readlink, readlink, sys_readlink);

static long sys_readlinkat(int dirfd, const char *path, char *buf, int size)
{
	return do_readlink(dirfd, path, buf, size);
}
SYSCALL_REGISTER(__NR_readlinkat, readlinkat, sys_readlinkat);
