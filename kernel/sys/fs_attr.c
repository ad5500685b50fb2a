/*
 * Attribute changes: truncate, ftruncate, umask, the chmod and chown
 * families, utimensat/futimesat/utimes/utime, and the xattr calls (no
 * extended attributes exist: reads say ENODATA, writes EOPNOTSUPP).
 * We run as root, so ownership changes are simply recorded.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "syscall.h"
#include "uaccess.h"

#include <linux/time_types.h>

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#define UTIME_NOW_  ((1L << 30) - 1L)
#define UTIME_OMIT_ ((1L << 30) - 2L)

/* Looks up a user path from dirfd with AT_* flags (NULL path allowed
 * with AT_EMPTY_PATH). */
static long user_lookup(int dirfd, const char *upath, int at_flags,
			struct inode **out)
{
	char *path;
	long err;

	if (!upath && (at_flags & AT_EMPTY_PATH))
		return vfs_lookup_at(dirfd, "", at_flags, out);
	err = fs_user_path(upath, &path);
	if (err)
		return err;
	err = vfs_lookup_at(dirfd, path, at_flags, out);
	kfree(path);
	return err;
}

/* The inode behind a descriptor (O_PATH ones included): 0 or -EBADF. */
static long fd_inode(int fd, struct inode **out)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	*out = f->inode;
	file_put(f);
	return 0;
}

static long sys_truncate(const char *upath, int64_t len)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_truncate(path, len);
	kfree(path);
	return err;
}
SYSCALL_REGISTER(__NR_truncate, truncate, sys_truncate);

static long sys_ftruncate(int fd, int64_t len)
{
	struct file *f = fd_get(fd);
	long err;

	if (!f)
		return -EBADF;
	err = vfs_ftruncate(f, len);
	file_put(f);
	return err;
}
SYSCALL_REGISTER(__NR_ftruncate, ftruncate, sys_ftruncate);

static long sys_umask(int mask)
{
	return vfs_umask((unsigned int)mask);
}
SYSCALL_REGISTER(__NR_umask, umask, sys_umask);

static long sys_fchmodat2(int dirfd, const char *path, int mode, int flags)
{
	struct inode *ino;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = user_lookup(dirfd, path, flags, &ino);
	if (err)
		return err;
	if (S_ISLNK(ino->mode))
		return -EOPNOTSUPP; /* symlink modes cannot change on Linux */
	return vfs_chmod_inode(ino, mode);
}
SYSCALL_REGISTER(__NR_fchmodat2, fchmodat2, sys_fchmodat2);

static long sys_fchmodat(int dirfd, const char *path, int mode)
{
	return sys_fchmodat2(dirfd, path, mode, 0);
}
SYSCALL_REGISTER(__NR_fchmodat, fchmodat, sys_fchmodat);

static long sys_chmod(const char *path, int mode)
{
	return sys_fchmodat2(AT_FDCWD, path, mode, 0);
}
SYSCALL_REGISTER(__NR_chmod, chmod, sys_chmod);

static long sys_fchmod(int fd, int mode)
{
	struct file *f = fd_get(fd);
	long err = 0;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		err = -EBADF;
	else if (f->inode)
		err = vfs_chmod_inode(f->inode, mode);
	file_put(f);
	return err;
}
SYSCALL_REGISTER(__NR_fchmod, fchmod, sys_fchmod);

static long sys_fchownat(int dirfd, const char *path, unsigned int uid,
			 unsigned int gid, int flags)
{
	struct inode *ino;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = user_lookup(dirfd, path, flags, &ino);
	if (err)
		return err;
	return vfs_chown_inode(ino, uid, gid);
}
SYSCALL_REGISTER(__NR_fchownat, fchownat, sys_fchownat);

static long sys_chown(const char *path, unsigned int uid, unsigned int gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, 0);
}
SYSCALL_REGISTER(__NR_chown, chown, sys_chown);

static long sys_lchown(const char *path, unsigned int uid, unsigned int gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}
SYSCALL_REGISTER(__NR_lchown, lchown, sys_lchown);

static long sys_fchown(int fd, unsigned int uid, unsigned int gid)
{
	struct file *f = fd_get(fd);
	long err = 0;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		err = -EBADF;
	else if (f->inode)
		err = vfs_chown_inode(f->inode, uid, gid);
	file_put(f);
	return err;
}
SYSCALL_REGISTER(__NR_fchown, fchown, sys_fchown);

/* Sets times on what (dirfd, upath, flags) names; a NULL path with a
 * real dirfd means the descriptor itself (futimens). */
static long do_utimes(int dirfd, const char *upath, const struct fs_time *times,
		      int flags)
{
	struct inode *ino;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!upath && dirfd != AT_FDCWD) {
		if (flags & AT_SYMLINK_NOFOLLOW)
			return -EINVAL;
		err = fd_inode(dirfd, &ino);
		if (err)
			return err;
		if (!ino)
			return 0;
	} else {
		err = user_lookup(dirfd, upath, flags, &ino);
		if (err)
			return err;
	}
	if (times && times[0].nsec == UTIME_OMIT_ &&
	    times[1].nsec == UTIME_OMIT_)
		return 0;
	return vfs_utimens_inode(ino, times);
}

static bool nsec_valid(int64_t ns)
{
	return (ns >= 0 && ns < 1000000000) || ns == UTIME_NOW_ ||
	       ns == UTIME_OMIT_;
}

static long sys_utimensat(int dirfd, const char *path,
			  const struct __kernel_timespec *utimes, int flags)
{
	struct __kernel_timespec ts[2];
	struct fs_time t[2];

	if (utimes) {
		if (copy_from_user(ts, utimes, sizeof(ts)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (!nsec_valid(ts[i].tv_nsec))
				return -EINVAL;
			t[i].sec = ts[i].tv_sec;
			t[i].nsec = ts[i].tv_nsec;
		}
	}
	return do_utimes(dirfd, path, utimes ? t : NULL, flags);
}
SYSCALL_REGISTER(__NR_utimensat, utimensat, sys_utimensat);

struct timeval_ {
	int64_t tv_sec;
	int64_t tv_usec;
};

static long sys_futimesat(int dirfd, const char *path,
			  const struct timeval_ *utv)
{
	struct timeval_ tv[2];
	struct fs_time t[2];

	if (utv) {
		if (copy_from_user(tv, utv, sizeof(tv)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			t[i].sec = tv[i].tv_sec;
			t[i].nsec = tv[i].tv_usec * 1000;
		}
	}
	return do_utimes(dirfd, path, utv ? t : NULL, 0);
}
SYSCALL_REGISTER(__NR_futimesat, futimesat, sys_futimesat);

static long sys_utimes(const char *path, const struct timeval_ *utv)
{
	return sys_futimesat(AT_FDCWD, path, utv);
}
SYSCALL_REGISTER(__NR_utimes, utimes, sys_utimes);

struct utimbuf_ {
	int64_t actime;
	int64_t modtime;
};

static long sys_utime(const char *path, const struct utimbuf_ *ubuf)
{
	struct utimbuf_ b;
	struct fs_time t[2];

	if (ubuf) {
		if (copy_from_user(&b, ubuf, sizeof(b)))
			return -EFAULT;
		t[0].sec = b.actime;
		t[1].sec = b.modtime;
		t[0].nsec = t[1].nsec = 0;
	}
	return do_utimes(AT_FDCWD, path, ubuf ? t : NULL, 0);
}
SYSCALL_REGISTER(__NR_utime, utime, sys_utime);

/* ---- extended attributes: none exist ---- */

static long xattr_path(const char *path, bool follow, long answer)
{
	struct inode *ino;
	long err =
	    user_lookup(AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, &ino);
	return err ? err : answer;
}

static long xattr_fd(int fd, long answer)
{
	struct inode *ino;
	long err = fd_inode(fd, &ino);
	return err ? err : answer;
}

static long sys_getxattr(const char *path)
{
	return xattr_path(path, true, -ENODATA);
}
SYSCALL_REGISTER(__NR_getxattr, getxattr, sys_getxattr);

static long sys_lgetxattr(const char *path)
{
	return xattr_path(path, false, -ENODATA);
}
SYSCALL_REGISTER(__NR_lgetxattr, lgetxattr, sys_lgetxattr);

static long sys_fgetxattr(int fd)
{
	return xattr_fd(fd, -ENODATA);
}
SYSCALL_REGISTER(__NR_fgetxattr, fgetxattr, sys_fgetxattr);

static long sys_listxattr(const char *path)
{
	return xattr_path(path, true, 0);
}
SYSCALL_REGISTER(__NR_listxattr, listxattr, sys_listxattr);

static long sys_llistxattr(const char *path)
{
	return xattr_path(path, false, 0);
}
SYSCALL_REGISTER(__NR_llistxattr, llistxattr, sys_llistxattr);

static long sys_flistxattr(int fd)
{
	return xattr_fd(fd, 0);
}
SYSCALL_REGISTER(__NR_flistxattr, flistxattr, sys_flistxattr);

static long sys_setxattr(const char *path)
{
	return xattr_path(path, true, -EOPNOTSUPP);
}
SYSCALL_REGISTER(__NR_setxattr, setxattr, sys_setxattr);

static long sys_lsetxattr(const char *path)
{
	return xattr_path(path, false, -EOPNOTSUPP);
}
SYSCALL_REGISTER(__NR_lsetxattr, lsetxattr, sys_lsetxattr);

static long sys_fsetxattr(int fd)
{
	return xattr_fd(fd, -EOPNOTSUPP);
}
SYSCALL_REGISTER(__NR_fsetxattr, fsetxattr, sys_fsetxattr);

static long sys_removexattr(const char *path)
{
	return xattr_path(path, true, -ENODATA);
}
SYSCALL_REGISTER(__NR_removexattr, removexattr, sys_removexattr);

static long sys_lremovexattr(const char *path)
{
	return xattr_path(path, false, -ENODATA);
}
SYSCALL_REGISTER(__NR_lremovexattr, lremovexattr, sys_lremovexattr);

static long sys_fremovexattr(int fd)
{
	return xattr_fd(fd, -ENODATA);
}
SYSCALL_REGISTER(__NR_fremovexattr, fremovexattr, sys_fremovexattr);
