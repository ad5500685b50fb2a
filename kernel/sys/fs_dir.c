/*
 * Directory and name syscalls: getdents64 (and the old getdents),
 * getcwd, chdir, fchdir, mkdir(at), rmdir, unlink(at), rename(at/at2),
 * link(at), symlink(at), mknod(at).  Paths are copied in here; the rules
 * live in kernel/fs/names.c.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "syscall.h"
#include "uaccess.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* The pre-2.4 record: d_type sits in the last byte of the record. */
struct linux_dirent {
	unsigned long d_ino;
	unsigned long d_off;
	uint16_t d_reclen;
	char d_name[];
};

struct getdents_ctx {
	struct dir_ctx ctx;
	char *ubuf;
	size_t size, used;
	long err;
	bool is64;
};

static bool getdents_emit(struct dir_ctx *c, const char *name, size_t len,
			  uint64_t ino, unsigned int type, uint64_t next)
{
	struct getdents_ctx *g = container_of(c, struct getdents_ctx, ctx);
	uint64_t rec[(sizeof(struct linux_dirent64) + MAX_NAME + 16) / 8];
	size_t reclen;

	if (g->is64)
		reclen = ALIGN_UP(
		    offsetof(struct linux_dirent64, d_name) + len + 1, 8);
	else
		reclen = ALIGN_UP(
		    offsetof(struct linux_dirent, d_name) + len + 2, 8);
	if (g->used + reclen > g->size) {
		if (!g->used)
			g->err = -EINVAL; /* buffer too small for one entry */
		return false;
	}
	memset(rec, 0, reclen);
	if (g->is64) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)rec;
		d->d_ino = ino;
		d->d_off = (int64_t)next;
		d->d_reclen = (uint16_t)reclen;
		d->d_type = (uint8_t)type;
		memcpy(d->d_name, name, len);
	} else {
		struct linux_dirent *d = (struct linux_dirent *)rec;
		d->d_ino = ino;
		d->d_off = next;
		d->d_reclen = (uint16_t)reclen;
		memcpy(d->d_name, name, len);
		((uint8_t *)rec)[reclen - 1] = (uint8_t)type;
	}
	if (copy_to_user(g->ubuf + g->used, rec, reclen)) {
		g->err = -EFAULT;
		return false;
	}
	g->used += reclen;
	c->pos = next;
	return true;
}

static long do_getdents(int fd, void *ubuf, unsigned int count, bool is64)
{
	struct file *f = fd_get(fd);
	struct getdents_ctx g = {
	    .ctx = {.emit = getdents_emit},
	    .ubuf = ubuf,
	    .size = count,
	    .is64 = is64,
	};
	long r;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (!f->ops->iterate)
		r = -ENOTDIR;
	else if (!user_range_ok(ubuf, count))
		r = -EFAULT;
	else if (f->inode && f->inode->nlink == 0)
		r = -ENOENT; /* the directory was removed */
	else {
		g.ctx.pos = f->pos;
		f->ops->iterate(f, &g.ctx);
		f->pos = g.ctx.pos;
		r = g.used ? (long)g.used : g.err;
	}
	file_put(f);
	return r;
}

static long sys_getdents64(int fd, void *dirp, unsigned int count)
{
	return do_getdents(fd, dirp, count, true);
}
SYSCALL_REGISTER(__NR_getdents64, getdents64, sys_getdents64);

static long sys_getdents(int fd, void *dirp, unsigned int count)
{
	return do_getdents(fd, dirp, count, false);
}
SYSCALL_REGISTER(__NR_getdents, getdents, sys_getdents);

static long sys_getcwd(char *ubuf, size_t size)
{
	char *kbuf = kmalloc(MAX_PATH);
	long len;

	if (!kbuf)
		return -ENOMEM;
	len = vfs_getcwd(kbuf, MAX_PATH);
	if (len >= 0) {
		if ((size_t)len + 1 > size)
			len = -ERANGE;
		else if (copy_to_user(ubuf, kbuf, (size_t)len + 1))
			len = -EFAULT;
		else
			len++; /* the syscall counts the NUL */
	}
	kfree(kbuf);
	return len;
}
SYSCALL_REGISTER(__NR_getcwd, getcwd, sys_getcwd);

static long sys_chdir(const char *upath)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_chdir(path);
	kfree(path);
	return err;
}
SYSCALL_REGISTER(__NR_chdir, chdir, sys_chdir);

static long sys_fchdir(int fd)
{
	struct file *f = fd_get(fd);
	long err;

	if (!f)
		return -EBADF;
	err = vfs_fchdir(f);
	file_put(f);
	return err;
}
SYSCALL_REGISTER(__NR_fchdir, fchdir, sys_fchdir);

static long sys_mkdirat(int dirfd, const char *upath, int mode)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_mkdir_at(dirfd, path, mode);
	kfree(path);
	return err;
}
SYSCALL_REGISTER(__NR_mkdirat, mkdirat, sys_mkdirat);

static long sys_mkdir(const char *path, int mode)
{
	return sys_mkdirat(AT_FDCWD, path, mode);
}
SYSCALL_REGISTER(__NR_mkdir, mkdir, sys_mkdir);

static long sys_mknodat(int dirfd, const char *upath, int mode,
			unsigned int dev)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_mknod_at(dirfd, path, mode, dev);
	kfree(path);
	return err;
}
SYSCALL_REGISTER(__NR_mknodat, mknodat, sys_mknodat);

static long sys_mknod(const char *path, int mode, unsigned int dev)
{
	return sys_mknodat(AT_FDCWD, path, mode, dev);
}
SYSCALL_REGISTER(__NR_mknod, mknod, sys_mknod);

static long sys_unlinkat(int dirfd, const char *upath, int flags)
{
	char *path;
	long err = fs_user_path(upath, &path);

	if (err)
		return err;
	err = vfs_unlink_at(dirfd, path, flags);
	kfree(path);
	return err;
}
SYSCALL_REGISTER(__NR_unlinkat, unlinkat, sys_unlinkat);

static long sys_unlink(const char *path)
{
	return sys_unlinkat(AT_FDCWD, path, 0);
}
SYSCALL_REGISTER(__NR_unlink, unlink, sys_unlink);

static long sys_rmdir(const char *path)
{
	return sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}
SYSCALL_REGISTER(__NR_rmdir, rmdir, sys_rmdir);

/* Copies two user paths; both kmalloc'd on success. */
static long two_paths(const char *ua, const char *ub, char **a, char **b)
{
	long err = fs_user_path(ua, a);

	if (err)
		return err;
	err = fs_user_path(ub, b);
	if (err)
		kfree(*a);
	return err;
}

static long sys_renameat2(int odirfd, const char *uold, int ndirfd,
			  const char *unew, unsigned int flags)
{
	char *oldp, *newp;
	long err = two_paths(uold, unew, &oldp, &newp);

	if (err)
		return err;
	err = vfs_rename_at(odirfd, oldp, ndirfd, newp, flags);
	kfree(oldp);
	kfree(newp);
	return err;
}
SYSCALL_REGISTER(__NR_renameat2, renameat2, sys_renameat2);

static long sys_renameat(int odirfd, const char *oldp, int ndirfd,
			 const char *newp)
{
	return sys_renameat2(odirfd, oldp, ndirfd, newp, 0);
}
SYSCALL_REGISTER(__NR_renameat, renameat, sys_renameat);

static long sys_rename(const char *oldp, const char *newp)
{
	return sys_renameat2(AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}
SYSCALL_REGISTER(__NR_rename, rename, sys_rename);

static long sys_linkat(int odirfd, const char *uold, int ndirfd,
		       const char *unew, int flags)
{
	char *oldp, *newp;
	long err = two_paths(uold, unew, &oldp, &newp);

	if (err)
		return err;
	err = vfs_link_at(odirfd, oldp, ndirfd, newp, flags);
	kfree(oldp);
	kfree(newp);
	return err;
}
SYSCALL_REGISTER(__NR_linkat, linkat, sys_linkat);

static long sys_link(const char *oldp, const char *newp)
{
	return sys_linkat(AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}
SYSCALL_REGISTER(__NR_link, link, sys_link);

static long sys_symlinkat(const char *utarget, int dirfd, const char *unew)
{
	char *target, *newp;
	long err = two_paths(utarget, unew, &target, &newp);

	if (err)
		return err;
	err = vfs_symlink_at(target, dirfd, newp);
	kfree(target);
	kfree(newp);
	return err;
}
SYSCALL_REGISTER(__NR_symlinkat, symlinkat, sys_symlinkat);

static long sys_symlink(const char *target, const char *newp)
{
	return sys_symlinkat(target, AT_FDCWD, newp);
}
SYSCALL_REGISTER(__NR_symlink, symlink, sys_symlink);
