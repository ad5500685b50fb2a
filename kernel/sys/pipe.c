/*
 * Pipes: pipe and pipe2.  A pipe is a ring buffer of PIPE_SIZE bytes
 * (allocated on the first write) between two open files without an
 * inode, the read end and the write end; dup'ed descriptors share those
 * two files, so "all writers closed" is "the write end's file was
 * released".  The rules are Linux's (pipe(7)): a read returns what is
 * there (up to the count) or waits for some, and returns 0 at end of file
 * once the write end is gone; a write of at most PIPE_BUF bytes is atomic
 * (it waits until it fits whole), a longer one may be split; a write with
 * no reader left is EPIPE (the SIGPIPE that goes with it comes with
 * signal delivery); O_NONBLOCK turns every wait into EAGAIN, or a short
 * count when part was done.  O_DIRECT is accepted and kept in the file's
 * flags; writes stay a byte stream (no packet mode).
 *
 * Readiness: the read end is readable with data or at end of file
 * (POLLHUP); the write end is writable while PIPE_BUF bytes fit (so the
 * next atomic write cannot block) and reports POLLERR once the reader is
 * gone.  Each change that can raise one of those calls file_notify on the
 * end concerned, which is what epoll's edge triggering sees: every write
 * notifies the reader, as on Linux.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>

#define PIPE_SIZE	 65536 /* bytes a pipe holds (Linux's default) */
#define PIPE_BUF	 4096  /* writes up to this size are atomic */
#define FIONREAD_	 0x541b
#define PIPEFS_DEV_MINOR 12 /* st_dev 0:12, one anonymous "filesystem" */

struct pipe {
	uint8_t *buf; /* cap bytes, NULL until the first write */
	size_t cap;
	size_t head;  /* offset of the oldest unread byte */
	size_t count; /* unread bytes */
	/* The two ends; NULL once released (no reader / no writer). */
	struct file *rfile, *wfile;
	uint64_t ino;
	struct fs_time atime, mtime, ctime;
};

static uint64_t pipe_next_ino = 1;

static bool pipe_writable_now(const struct pipe *p)
{
	return p->cap - p->count >= MIN(p->cap, (size_t)PIPE_BUF);
}

/* Copies up to n unread bytes to buf and consumes them; bytes or
 * -EFAULT when nothing could be copied. */
static ssize_t pipe_take(struct pipe *p, void *buf, size_t n, bool user)
{
	size_t done = 0;

	n = MIN(n, p->count);
	while (done < n) {
		size_t c = MIN(n - done, p->cap - p->head);
		if (fs_copy_out((char *)buf + done, p->buf + p->head, c, user))
			break;
		p->head = (p->head + c) % p->cap;
		p->count -= c;
		done += c;
	}
	if (p->count == 0)
		p->head = 0; /* keeps later writes contiguous */
	return done ? (ssize_t)done : -EFAULT;
}

/* Appends up to n bytes from buf if they fit; bytes or -EFAULT when
 * nothing could be copied. */
static ssize_t pipe_put(struct pipe *p, const void *buf, size_t n, bool user)
{
	size_t done = 0;

	n = MIN(n, p->cap - p->count);
	while (done < n) {
		size_t tail = (p->head + p->count) % p->cap;
		size_t c = MIN(n - done, p->cap - tail);
		if (fs_copy_in(p->buf + tail, (const char *)buf + done, c,
			       user))
			break;
		p->count += c;
		done += c;
	}
	return done ? (ssize_t)done : -EFAULT;
}

static bool pipe_can_read(void *arg)
{
	struct pipe *p = arg;
	return p->count > 0 || !p->wfile;
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			 bool user)
{
	struct pipe *p = f->priv;
	bool was_writable;
	ssize_t r;

	if (n == 0)
		return 0;
	while (p->count == 0) {
		if (!p->wfile)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_until(pipe_can_read, p, UINT64_MAX) == -EINTR)
			return -ERESTARTSYS;
	}
	was_writable = pipe_writable_now(p);
	r = pipe_take(p, buf, n, user);
	if (r > 0) {
		fs_time_now(&p->atime);
		if (!was_writable && pipe_writable_now(p) && p->wfile)
			file_notify(p->wfile, POLLOUT | POLLWRNORM);
	}
	return r;
}

struct pipe_space {
	struct pipe *p;
	size_t need;
};

static bool pipe_can_write(void *arg)
{
	struct pipe_space *s = arg;
	return !s->p->rfile || s->p->cap - s->p->count >= s->need;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n,
			  uint64_t *pos, bool user)
{
	struct pipe *p = f->priv;
	/* Atomic writes wait until they fit whole; longer ones take what
	 * fits and then wait for PIPE_BUF bytes of room, as Linux waits for
	 * a free page. */
	bool atomic = n <= PIPE_BUF && n <= p->cap;
	struct pipe_space space = {p, atomic ? n : MIN(p->cap, PIPE_BUF)};
	size_t done = 0;

	if (n == 0)
		return 0;
	if (!p->rfile)
		return -EPIPE;
	if (!p->buf) {
		p->buf = kmalloc(p->cap);
		if (!p->buf)
			return -ENOMEM;
	}
	for (;;) {
		size_t room;

		if (!p->rfile)
			return done ? (ssize_t)done : -EPIPE;
		room = p->cap - p->count;
		if (atomic ? room >= n : room > 0) {
			ssize_t r = pipe_put(p, (const char *)buf + done,
					     n - done, user);
			if (r < 0)
				return done ? (ssize_t)done : r;
			done += (size_t)r;
			fs_time_now(&p->mtime);
			p->ctime = p->mtime;
			file_notify(p->rfile, POLLIN | POLLRDNORM);
			if (done == n)
				return (ssize_t)done;
			continue;
		}
		if (f->flags & O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		if (wait_until(pipe_can_write, &space, UINT64_MAX) == -EINTR)
			return done ? (ssize_t)done : -ERESTARTSYS;
	}
}

static unsigned int pipe_poll(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned int mask = 0;

	if (f == p->rfile) {
		if (p->count)
			mask |= POLLIN | POLLRDNORM;
		if (!p->wfile)
			mask |= POLLHUP;
	}
	if (f == p->wfile) {
		if (pipe_writable_now(p))
			mask |= POLLOUT | POLLWRNORM;
		if (!p->rfile)
			mask |= POLLERR;
	}
	return mask;
}

static long pipe_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct pipe *p = f->priv;

	if (cmd == FIONREAD_) {
		int n = (int)p->count;
		return copy_to_user((void *)arg, &n, sizeof(n));
	}
	return -ENOTTY;
}

static int pipe_getattr(struct file *f, struct kstat *st)
{
	struct pipe *p = f->priv;

	memset(st, 0, sizeof(*st));
	st->dev_minor = PIPEFS_DEV_MINOR;
	st->ino = p->ino;
	st->nlink = 1;
	st->mode = S_IFIFO | 0600;
	st->blksize = PAGE_SIZE;
	st->atime = p->atime;
	st->mtime = p->mtime;
	st->ctime = p->ctime;
	st->btime = p->ctime;
	return 0;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;

	file_watch_release(f);
	if (f == p->rfile) {
		p->rfile = NULL;
		if (p->wfile)
			file_notify(p->wfile, POLLOUT | POLLERR);
	} else if (f == p->wfile) {
		p->wfile = NULL;
		if (p->rfile)
			file_notify(p->rfile, POLLIN | POLLHUP);
	}
	if (!p->rfile && !p->wfile) {
		kfree(p->buf);
		kfree(p);
	}
}

static const struct file_ops pipe_fops = {
    .read = pipe_read,
    .write = pipe_write,
    .ioctl = pipe_ioctl,
    .getattr = pipe_getattr,
    .poll = pipe_poll,
    .release = pipe_release,
};

/* Makes a pipe's two files; 0 or -ENOMEM. */
static int pipe_create(int flags, struct file **rf, struct file **wf)
{
	unsigned int status = (unsigned int)flags & (O_NONBLOCK | O_DIRECT);
	struct pipe *p = kzalloc(sizeof(*p));
	char name[32];

	if (!p)
		return -ENOMEM;
	p->cap = PIPE_SIZE;
	p->ino = pipe_next_ino++;
	fs_time_now(&p->ctime);
	p->atime = p->mtime = p->ctime;
	*rf = file_alloc(&pipe_fops, O_RDONLY | status, NULL);
	*wf = file_alloc(&pipe_fops, O_WRONLY | status, NULL);
	if (!*rf || !*wf) {
		kfree(*rf);
		kfree(*wf);
		kfree(p);
		return -ENOMEM;
	}
	(*rf)->priv = (*wf)->priv = p;
	p->rfile = *rf;
	p->wfile = *wf;
	/* What /proc/self/fd shows; a missing name only changes that. */
	snprintf(name, sizeof(name), "pipe:[%llu]", (unsigned long long)p->ino);
	(*rf)->path = strdup(name);
	(*wf)->path = strdup(name);
	return 0;
}

static long sys_pipe2(int *ufds, int flags)
{
	struct file *rf, *wf;
	int fds[2], err;
	bool cloexec = flags & O_CLOEXEC;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	err = pipe_create(flags, &rf, &wf);
	if (err)
		return err;
	fds[0] = fd_install(rf, 0, cloexec);
	if (fds[0] < 0) {
		file_put(rf);
		file_put(wf);
		return fds[0];
	}
	fds[1] = fd_install(wf, 0, cloexec);
	if (fds[1] < 0) {
		fd_close(fds[0]);
		file_put(wf);
		return fds[1];
	}
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}
SYSCALL_REGISTER(__NR_pipe2, pipe2, sys_pipe2);

static long sys_pipe(int *ufds)
{
	return sys_pipe2(ufds, 0);
}
SYSCALL_REGISTER(__NR_pipe, pipe, sys_pipe);
