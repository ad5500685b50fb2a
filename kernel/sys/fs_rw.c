/*
 * Data syscalls: read, write and their vector and positional forms,
 * lseek, sendfile, copy_file_range, the sync family, fadvise64 and
 * fallocate.  Thin shims: they check descriptors and user ranges and call
 * the vfs (kernel/fs/vfs.c), which calls the file's ops.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/poll.h>

/* Bounce buffer size for gathering writev and for sendfile. */
#define RW_BOUNCE 65536

static long sys_read(int fd, void *buf, size_t n)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (!file_readable(f))
		r = -EBADF;
	else if (!user_range_ok(buf, n))
		r = -EFAULT;
	else
		r = vfs_read(f, buf, n, true);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_read, read, sys_read);

static long sys_write(int fd, const void *buf, size_t n)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (!file_writable(f))
		r = -EBADF;
	else if (!user_range_ok(buf, n))
		r = -EFAULT;
	else
		r = vfs_write(f, buf, n, true);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_write, write, sys_write);

static long sys_pread64(int fd, void *buf, size_t n, int64_t off)
{
	struct file *f;
	long r;

	if (off < 0)
		return -EINVAL;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_range_ok(buf, n))
		r = -EFAULT;
	else
		r = vfs_pread_at(f, buf, n, off, true);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_pread64, pread64, sys_pread64);

static long sys_pwrite64(int fd, const void *buf, size_t n, int64_t off)
{
	struct file *f;
	long r;

	if (off < 0)
		return -EINVAL;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_range_ok(buf, n))
		r = -EFAULT;
	else
		r = vfs_pwrite_at(f, buf, n, off, true);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_pwrite64, pwrite64, sys_pwrite64);

/* Copies and checks an iovec array: lengths must not be negative or sum
 * past SSIZE_MAX (EINVAL), every buffer must lie in user space (EFAULT).
 * *out is kmalloc'd (NULL for cnt 0). */
static long iov_import(const struct iovec *uiov, int cnt, struct iovec **out,
		       size_t *total)
{
	struct iovec *iov;
	size_t sum = 0;

	*out = NULL;
	*total = 0;
	if (cnt < 0 || cnt > UIO_MAXIOV)
		return -EINVAL;
	if (cnt == 0)
		return 0;
	iov = kmalloc(sizeof(*iov) * (size_t)cnt);
	if (!iov)
		return -ENOMEM;
	if (copy_from_user(iov, uiov, sizeof(*iov) * (size_t)cnt)) {
		kfree(iov);
		return -EFAULT;
	}
	for (int i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].iov_len < 0 ||
		    iov[i].iov_len > (size_t)INT64_MAX - sum) {
			kfree(iov);
			return -EINVAL;
		}
		sum += iov[i].iov_len;
	}
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len &&
		    !user_range_ok(iov[i].iov_base, iov[i].iov_len)) {
			kfree(iov);
			return -EFAULT;
		}
	}
	*out = iov;
	*total = MIN(sum, FS_MAX_RW);
	return 0;
}

/* Vector read at the file position (off < 0) or at off. */
static long do_readv(struct file *f, const struct iovec *uiov, int cnt,
		     int64_t off)
{
	struct iovec *iov;
	size_t total, done = 0;
	long r = iov_import(uiov, cnt, &iov, &total);

	if (r)
		return r;
	if (!file_readable(f)) {
		kfree(iov);
		return -EBADF;
	}
	for (int i = 0; i < cnt && done < total; i++) {
		size_t want = MIN(iov[i].iov_len, total - done);
		if (!want)
			continue;
		if (off < 0)
			r = vfs_read(f, iov[i].iov_base, want, true);
		else
			r = vfs_pread_at(f, iov[i].iov_base, want,
					 off + (int64_t)done, true);
		if (r < 0) {
			if (done)
				break;
			kfree(iov);
			return r;
		}
		done += (size_t)r;
		if ((size_t)r < want)
			break;
		/* A stream (pipe, socket) that has given data and has no more
		 * right now ends the read here, as on Linux, instead of
		 * blocking for the next buffer. */
		if (off < 0 && !f->ops->lseek && !(file_poll(f) & POLLIN))
			break;
	}
	kfree(iov);
	return (long)done;
}

/* Vector write.  A small vector is gathered into one buffer and written
 * once: atomic for O_APPEND, and one console exit instead of several. */
static long do_writev(struct file *f, const struct iovec *uiov, int cnt,
		      int64_t off)
{
	struct iovec *iov;
	size_t total, done = 0;
	char *bounce = NULL;
	long r = iov_import(uiov, cnt, &iov, &total);

	if (r)
		return r;
	if (!file_writable(f)) {
		kfree(iov);
		return -EBADF;
	}
	if (total == 0) {
		kfree(iov);
		return 0;
	}
	if (cnt > 1 && total <= RW_BOUNCE)
		bounce = kmalloc(total);
	if (bounce) {
		size_t got = 0;
		for (int i = 0; i < cnt && got < total; i++) {
			size_t c = MIN(iov[i].iov_len, total - got);
			if (copy_from_user(bounce + got, iov[i].iov_base, c))
				break;
			got += c;
		}
		if (got < total && !got) {
			r = -EFAULT;
		} else if (off < 0) {
			r = vfs_write(f, bounce, got, false);
		} else {
			r = vfs_pwrite_at(f, bounce, got, off, false);
		}
		kfree(bounce);
		kfree(iov);
		return r;
	}
	for (int i = 0; i < cnt && done < total; i++) {
		size_t want = MIN(iov[i].iov_len, total - done);
		if (!want)
			continue;
		if (off < 0)
			r = vfs_write(f, iov[i].iov_base, want, true);
		else
			r = vfs_pwrite_at(f, iov[i].iov_base, want,
					  off + (int64_t)done, true);
		if (r < 0) {
			if (done)
				break;
			kfree(iov);
			return r;
		}
		done += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	kfree(iov);
	return (long)done;
}

static long sys_readv(int fd, const struct iovec *iov, int cnt)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = do_readv(f, iov, cnt, -1);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_readv, readv, sys_readv);

static long sys_writev(int fd, const struct iovec *iov, int cnt)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = do_writev(f, iov, cnt, -1);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_writev, writev, sys_writev);

/* On x86_64 the offset comes whole in pos_l; pos_h is ignored. */
static long sys_preadv(int fd, const struct iovec *iov, int cnt, int64_t off)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = vfs_check_positional(f, off);
	if (!r)
		r = do_readv(f, iov, cnt, off);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_preadv, preadv, sys_preadv);

static long sys_pwritev(int fd, const struct iovec *iov, int cnt, int64_t off)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = vfs_check_positional(f, off);
	if (!r)
		r = do_writev(f, iov, cnt, off);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_pwritev, pwritev, sys_pwritev);

/* RWF_* hints we can honour by doing nothing (everything is in memory). */
#define RWF_ACCEPTED (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT)

/* The *v2 calls are readv/writev (offset -1: the file position) or
 * preadv/pwritev with flags, of which the accepted ones change nothing
 * for an in-memory filesystem. */
static long sys_preadv2(int fd, const struct iovec *iov, int cnt, int64_t off,
			long pos_h, int flags)
{
	if (flags & ~RWF_ACCEPTED)
		return -EOPNOTSUPP;
	return off == -1 ? sys_readv(fd, iov, cnt)
			 : sys_preadv(fd, iov, cnt, off);
}
SYSCALL_REGISTER(__NR_preadv2, preadv2, sys_preadv2);

static long sys_pwritev2(int fd, const struct iovec *iov, int cnt, int64_t off,
			 long pos_h, int flags)
{
	if (flags & ~RWF_ACCEPTED)
		return -EOPNOTSUPP;
	return off == -1 ? sys_writev(fd, iov, cnt)
			 : sys_pwritev(fd, iov, cnt, off);
}
SYSCALL_REGISTER(__NR_pwritev2, pwritev2, sys_pwritev2);

static long sys_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = vfs_lseek(f, off, whence);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_lseek, lseek, sys_lseek);

/* Copies up to count bytes from in to out through a kernel buffer, at
 * *in_off and *out_off when given (else at the files' positions).  Bytes
 * copied or -errno. */
static long copy_between(struct file *in, int64_t *in_off, struct file *out,
			 int64_t *out_off, size_t count)
{
	size_t cap = MIN(count, (size_t)RW_BOUNCE), done = 0;
	char *buf;
	long err = 0;

	if (!count)
		return 0;
	buf = kmalloc(cap);
	if (!buf)
		return -ENOMEM;
	while (done < count) {
		size_t want = MIN(count - done, cap);
		ssize_t r, w;

		r = in_off ? vfs_pread_at(in, buf, want, *in_off, false)
			   : vfs_read(in, buf, want, false);
		if (r <= 0) {
			err = r;
			break;
		}
		w = out_off
			? vfs_pwrite_at(out, buf, (size_t)r, *out_off, false)
			: vfs_write(out, buf, (size_t)r, false);
		if (w < 0) {
			err = w;
			w = 0;
		}
		if (in_off)
			*in_off += w;
		else if (w < r)
			in->pos -= (uint64_t)(r - w); /* unread the rest */
		if (out_off)
			*out_off += w;
		done += (size_t)w;
		/* A short read means the input has no more for now (a pipe)
		 * or at all: never block for the rest. */
		if (w < r || (size_t)r < want)
			break;
	}
	kfree(buf);
	return done ? (long)done : err;
}

static long sys_sendfile(int out_fd, int in_fd, int64_t *uoff, size_t count)
{
	struct file *in = fd_get(in_fd), *out = fd_get(out_fd);
	int64_t off = 0;
	long r;

	if (!in || !out) {
		r = -EBADF;
		goto put;
	}
	if (!file_readable(in) || !file_writable(out)) {
		r = -EBADF;
		goto put;
	}
	if (out->flags & O_APPEND) {
		r = -EINVAL;
		goto put;
	}
	/* As Linux: the input must be a file with a position (not a pipe or
	 * a socket), so bytes that could not be written are never lost: they
	 * stay in the file for the next call. */
	if (!in->ops->lseek) {
		r = -EINVAL;
		goto put;
	}
	if (uoff) {
		if (copy_from_user(&off, uoff, sizeof(off))) {
			r = -EFAULT;
			goto put;
		}
		if (off < 0) {
			r = -EINVAL;
			goto put;
		}
		if (!in->ops->lseek) {
			r = -ESPIPE;
			goto put;
		}
	}
	r = copy_between(in, uoff ? &off : NULL, out, NULL,
			 MIN(count, FS_MAX_RW));
	if (uoff && copy_to_user(uoff, &off, sizeof(off)))
		r = -EFAULT;
put:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}
SYSCALL_REGISTER(__NR_sendfile, sendfile, sys_sendfile);

static long sys_copy_file_range(int fd_in, int64_t *uoff_in, int fd_out,
				int64_t *uoff_out, size_t len,
				unsigned int flags)
{
	struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
	int64_t off_in = 0, off_out = 0;
	long r;

	if (flags) {
		r = -EINVAL;
		goto put;
	}
	if (!in || !out || !file_readable(in) || !file_writable(out) ||
	    (out->flags & O_APPEND)) {
		r = -EBADF;
		goto put;
	}
	if (!in->inode || !out->inode || S_ISDIR(in->inode->mode) ||
	    S_ISDIR(out->inode->mode)) {
		r = (in->inode && S_ISDIR(in->inode->mode)) ||
			    (out->inode && S_ISDIR(out->inode->mode))
			? -EISDIR
			: -EINVAL;
		goto put;
	}
	if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode)) {
		r = -EINVAL;
		goto put;
	}
	if ((uoff_in && copy_from_user(&off_in, uoff_in, sizeof(off_in))) ||
	    (uoff_out && copy_from_user(&off_out, uoff_out, sizeof(off_out)))) {
		r = -EFAULT;
		goto put;
	}
	if (!uoff_in)
		off_in = (int64_t)in->pos;
	if (!uoff_out)
		off_out = (int64_t)out->pos;
	if (off_in < 0 || off_out < 0) {
		r = -EINVAL;
		goto put;
	}
	len = MIN(len, FS_MAX_RW);
	if (in->inode == out->inode &&
	    (uint64_t)off_in < (uint64_t)off_out + len &&
	    (uint64_t)off_out < (uint64_t)off_in + len) {
		r = -EINVAL; /* overlapping ranges of one file */
		goto put;
	}
	r = copy_between(in, &off_in, out, &off_out, len);
	if (r > 0) {
		if (uoff_in) {
			if (copy_to_user(uoff_in, &off_in, sizeof(off_in)))
				r = -EFAULT;
		} else {
			in->pos = (uint64_t)off_in;
		}
		if (uoff_out) {
			if (copy_to_user(uoff_out, &off_out, sizeof(off_out)))
				r = -EFAULT;
		} else {
			out->pos = (uint64_t)off_out;
		}
	}
put:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}
SYSCALL_REGISTER(__NR_copy_file_range, copy_file_range, sys_copy_file_range);

static long do_fsync(int fd)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		r = -EBADF;
	else
		r = f->ops->fsync ? f->ops->fsync(f) : -EINVAL;
	file_put(f);
	return r;
}

static long sys_fsync(int fd)
{
	return do_fsync(fd);
}
SYSCALL_REGISTER(__NR_fsync, fsync, sys_fsync);

static long sys_fdatasync(int fd)
{
	return do_fsync(fd);
}
SYSCALL_REGISTER(__NR_fdatasync, fdatasync, sys_fdatasync);

static long sys_sync(void)
{
	return 0; /* everything lives in memory */
}
SYSCALL_REGISTER(__NR_sync, sync, sys_sync);

static long sys_syncfs(int fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}
SYSCALL_REGISTER(__NR_syncfs, syncfs, sys_syncfs);

#define POSIX_FADV_NOREUSE_ 5

static long sys_fadvise64(int fd, int64_t off, int64_t len, int advice)
{
	struct file *f = fd_get(fd);
	long r = 0;

	if (!f)
		return -EBADF;
	if (!f->ops->lseek || (f->flags & O_PATH))
		r = (f->flags & O_PATH) ? -EBADF : -ESPIPE;
	else if (advice < 0 || advice > POSIX_FADV_NOREUSE_ || len < 0)
		r = -EINVAL;
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_fadvise64, fadvise64, sys_fadvise64);

/* Writes zeroes over [off, off + len) of a regular file. */
static long zero_range(struct inode *ino, uint64_t off, uint64_t len)
{
	static const char zeroes[512];

	while (len) {
		size_t c = (size_t)MIN(len, sizeof(zeroes));
		ssize_t w = reg_write(ino, zeroes, c, off, false);
		if (w < 0)
			return w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static long sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
	struct file *f = fd_get(fd);
	struct inode *ino;
	uint64_t end, size;
	long r = 0;

	if (!f)
		return -EBADF;
	ino = f->inode;
	if (off < 0 || len <= 0) {
		r = -EINVAL;
	} else if (!file_writable(f)) {
		r = -EBADF;
	} else if (!ino) {
		r = -ESPIPE;
	} else if (S_ISDIR(ino->mode)) {
		r = -EISDIR;
	} else if (!S_ISREG(ino->mode)) {
		r = -ENODEV;
	} else if (__builtin_add_overflow((uint64_t)off, (uint64_t)len, &end) ||
		   end > FS_MAX_FILE_SIZE) {
		r = -EFBIG;
	} else {
		size = ino->size;
		switch (mode) {
		case 0:
			if (end > size)
				r = reg_truncate(ino, end);
			break;
		case FALLOC_FL_KEEP_SIZE:
			break;
		case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
		case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
			if ((uint64_t)off < size)
				r = zero_range(ino, (uint64_t)off,
					       MIN(end, size) - (uint64_t)off);
			break;
		case FALLOC_FL_ZERO_RANGE:
			if ((uint64_t)off < size)
				r = zero_range(ino, (uint64_t)off,
					       MIN(end, size) - (uint64_t)off);
			if (!r && end > size)
				r = reg_truncate(ino, end);
			break;
		default:
			r = -EOPNOTSUPP;
		}
	}
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_fallocate, fallocate, sys_fallocate);
