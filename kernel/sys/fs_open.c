/*
 * Descriptor syscalls: open, openat, creat, close, close_range, dup,
 * dup2, dup3, fcntl, ioctl and flock.  Locks are kernel/fs/lock.c's.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"

#include <linux/close_range.h>

#ifndef F_DUPFD_CLOEXEC
#define F_DUPFD_CLOEXEC (F_LINUX_SPECIFIC_BASE + 6)
#endif
#define F_SETLEASE_ (F_LINUX_SPECIFIC_BASE + 0)
#define F_GETLEASE_ (F_LINUX_SPECIFIC_BASE + 1)
#define FD_CLOEXEC_ 1
#define FASYNC_	    020000

#define FIONBIO_  0x5421
#define FIONCLEX_ 0x5450
#define FIOCLEX_  0x5451
#define FIOASYNC_ 0x5452

static long do_open(int dirfd, const char *upath, int flags, int mode)
{
	struct file *f;
	char *path;
	int err, fd;

	err = fs_user_path(upath, &path);
	if (err)
		return err;
	err = vfs_openat(dirfd, path, flags, mode, &f);
	kfree(path);
	if (err)
		return err;
	fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long sys_open(const char *path, int flags, int mode)
{
	return do_open(AT_FDCWD, path, flags, mode);
}
SYSCALL_REGISTER(__NR_open, open, sys_open);

static long sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return do_open(dirfd, path, flags, mode);
}
SYSCALL_REGISTER(__NR_openat, openat, sys_openat);

static long sys_creat(const char *path, int mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
SYSCALL_REGISTER(__NR_creat, creat, sys_creat);

static long sys_close(int fd)
{
	return fd_close(fd);
}
SYSCALL_REGISTER(__NR_close, close, sys_close);

static long sys_close_range(unsigned int first, unsigned int last,
			    unsigned int flags)
{
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	fd_close_range(first, last, flags & CLOSE_RANGE_CLOEXEC);
	return 0;
}
SYSCALL_REGISTER(__NR_close_range, close_range, sys_close_range);

static long sys_dup(int fd)
{
	struct file *f = fd_get(fd);
	int nfd;

	if (!f)
		return -EBADF;
	nfd = fd_install(f, 0, false);
	if (nfd < 0)
		file_put(f);
	return nfd;
}
SYSCALL_REGISTER(__NR_dup, dup, sys_dup);

static long do_dup3(int oldfd, int newfd, int flags)
{
	struct file *f;

	if (newfd < 0 || newfd >= MAX_FDS)
		return -EBADF;
	f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	return fd_install_at(newfd, f, flags & O_CLOEXEC);
}

static long sys_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd) {
		struct file *f = fd_get(oldfd);
		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return do_dup3(oldfd, newfd, 0);
}
SYSCALL_REGISTER(__NR_dup2, dup2, sys_dup2);

static long sys_dup3(int oldfd, int newfd, int flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	return do_dup3(oldfd, newfd, flags);
}
SYSCALL_REGISTER(__NR_dup3, dup3, sys_dup3);

/* Record locks: validated as Linux does, then lock.c. */
static long fcntl_lock(struct file *f, unsigned int cmd, void *uarg)
{
	struct flock fl;

	if (f->flags & O_PATH)
		return -EBADF;
	if (copy_from_user(&fl, uarg, sizeof(fl)))
		return -EFAULT;
	if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK &&
	    fl.l_type != F_UNLCK)
		return -EINVAL;
	if ((cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) &&
	    fl.l_pid != 0)
		return -EINVAL;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	if (get && fl.l_type == F_UNLCK)
		return -EINVAL;
	long r = lock_fcntl(f, cmd, &fl);
	if (r == 0 && get && copy_to_user(uarg, &fl, sizeof(fl)))
		return -EFAULT;
	return r;
}

static long sys_fcntl(int fd, unsigned int cmd, unsigned long arg)
{
	struct file *f = fd_get(fd);
	const unsigned int settable =
	    O_APPEND | O_NONBLOCK | FASYNC_ | O_DIRECT | O_NOATIME;
	long r = 0;
	int nfd;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= (unsigned long)proc_nofile()) {
			r = -EINVAL;
			break;
		}
		file_get(f);
		nfd = fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
		if (nfd < 0)
			file_put(f);
		r = nfd;
		break;
	case F_GETFD:
		r = fd_get_cloexec(fd) > 0 ? FD_CLOEXEC_ : 0;
		break;
	case F_SETFD:
		r = fd_set_cloexec(fd, arg & FD_CLOEXEC_);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		if (f->flags & O_PATH) {
			r = -EBADF;
			break;
		}
		f->flags =
		    (f->flags & ~settable) | ((unsigned int)arg & settable);
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		r = fcntl_lock(f, cmd, (void *)arg);
		break;
	case F_SETOWN:
	case F_SETSIG:
	case F_GETSIG:
	case F_GETOWN:
		r = 0;
		break;
	case F_GETLEASE_:
		r = F_UNLCK;
		break;
	case F_SETLEASE_:
	default:
		/* includes F_GETPIPE_SZ/F_SETPIPE_SZ and seals: not here */
		r = -EINVAL;
	}
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_fcntl, fcntl, sys_fcntl);

static long sys_ioctl(int fd, unsigned int cmd, unsigned long arg)
{
	struct file *f = fd_get(fd);
	long r;
	int on;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH) {
		file_put(f);
		return -EBADF;
	}
	switch (cmd) {
	case FIOCLEX_:
	case FIONCLEX_:
		r = fd_set_cloexec(fd, cmd == FIOCLEX_);
		break;
	case FIONBIO_:
	case FIOASYNC_:
		if (copy_from_user(&on, (void *)arg, sizeof(on))) {
			r = -EFAULT;
			break;
		}
		{
			unsigned int bit =
			    cmd == FIONBIO_ ? O_NONBLOCK : FASYNC_;
			f->flags = on ? f->flags | bit : f->flags & ~bit;
		}
		r = 0;
		break;
	default:
		r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
	}
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_ioctl, ioctl, sys_ioctl);

#define LOCK_SH_ 1
#define LOCK_EX_ 2
#define LOCK_NB_ 4
#define LOCK_UN_ 8

static long sys_flock(int fd, unsigned int op)
{
	struct file *f = fd_get(fd);
	unsigned int kind = op & ~(unsigned int)LOCK_NB_;
	long r;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (kind != LOCK_SH_ && kind != LOCK_EX_ && kind != LOCK_UN_)
		r = -EINVAL;
	else
		r = lock_flock(f,
			       kind == LOCK_SH_	  ? F_RDLCK
			       : kind == LOCK_EX_ ? F_WRLCK
						  : F_UNLCK,
			       !(op & LOCK_NB_));
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_flock, flock, sys_flock);
