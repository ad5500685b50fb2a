/*
 * eventfd and eventfd2: a 64-bit counter behind a descriptor (eventfd(2)).
 * A write of 8 bytes adds their value, waiting while the sum would pass
 * 0xfffffffffffffffe (writing 0xffffffffffffffff itself is EINVAL); a read
 * of at least 8 bytes waits for a non-zero counter and returns it and
 * resets it to 0, or with EFD_SEMAPHORE returns 1 and decrements it.
 * Buffers shorter than 8 bytes are EINVAL; EFD_NONBLOCK makes the waits
 * EAGAIN.  Readable while the counter is non-zero, writable while 1 more
 * can be added; each read notifies POLLOUT and each write (even of 0)
 * POLLIN, as Linux wakes its waiters.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>

#define EFD_SEMAPHORE_ 1
#define EFD_FLAGS_     (EFD_SEMAPHORE_ | O_CLOEXEC | O_NONBLOCK)
#define EVENTFD_MAX    UINT64_MAX /* the counter stays below this */

struct eventfd {
	uint64_t count;
	bool semaphore;
};

static bool eventfd_nonzero(void *arg)
{
	struct eventfd *e = arg;
	return e->count > 0;
}

static ssize_t eventfd_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			    bool user)
{
	struct eventfd *e = f->priv;
	uint64_t v;

	if (n < sizeof(v))
		return -EINVAL;
	while (e->count == 0) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_until(eventfd_nonzero, e, UINT64_MAX) == -EINTR)
			return -ERESTARTSYS;
	}
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	file_notify(f, POLLOUT);
	/* Consumed even if the copy faults, as on Linux. */
	if (fs_copy_out(buf, &v, sizeof(v), user))
		return -EFAULT;
	return sizeof(v);
}

struct eventfd_add {
	struct eventfd *e;
	uint64_t v;
};

static bool eventfd_fits(void *arg)
{
	struct eventfd_add *a = arg;
	return EVENTFD_MAX - a->e->count > a->v;
}

static ssize_t eventfd_write(struct file *f, const void *buf, size_t n,
			     uint64_t *pos, bool user)
{
	struct eventfd *e = f->priv;
	struct eventfd_add add = {e, 0};

	if (n < sizeof(add.v))
		return -EINVAL;
	if (fs_copy_in(&add.v, buf, sizeof(add.v), user))
		return -EFAULT;
	if (add.v == EVENTFD_MAX)
		return -EINVAL;
	while (!eventfd_fits(&add)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_until(eventfd_fits, &add, UINT64_MAX) == -EINTR)
			return -ERESTARTSYS;
	}
	e->count += add.v;
	file_notify(f, POLLIN);
	return sizeof(add.v);
}

static unsigned int eventfd_poll(struct file *f)
{
	struct eventfd *e = f->priv;
	unsigned int mask = 0;

	if (e->count > 0)
		mask |= POLLIN;
	if (e->count == EVENTFD_MAX)
		mask |= POLLERR;
	if (EVENTFD_MAX - 1 > e->count)
		mask |= POLLOUT;
	return mask;
}

static void eventfd_release(struct file *f)
{
	file_watch_release(f);
	kfree(f->priv);
}

static const struct file_ops eventfd_fops = {
    .read = eventfd_read,
    .write = eventfd_write,
    .getattr = fs_anon_getattr,
    .poll = eventfd_poll,
    .release = eventfd_release,
};

static long sys_eventfd2(unsigned int initval, int flags)
{
	struct eventfd *e;
	struct file *f;
	int fd;

	if (flags & ~EFD_FLAGS_)
		return -EINVAL;
	e = kzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = initval;
	e->semaphore = flags & EFD_SEMAPHORE_;
	f = file_alloc(&eventfd_fops, O_RDWR | (flags & O_NONBLOCK), NULL);
	if (!f) {
		kfree(e);
		return -ENOMEM;
	}
	f->priv = e;
	f->path = strdup("anon_inode:[eventfd]");
	fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}
SYSCALL_REGISTER(__NR_eventfd2, eventfd2, sys_eventfd2);

static long sys_eventfd(unsigned int initval)
{
	return sys_eventfd2(initval, 0);
}
SYSCALL_REGISTER(__NR_eventfd, eventfd, sys_eventfd);
