/*
 * epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait
 * and epoll_pwait2, with Linux's algorithm on one CPU.
 *
 * An epoll instance is a file whose priv is a struct eventpoll: a hash of
 * items keyed by (file, descriptor), as Linux keys its tree, and a ready
 * list.  Each item hangs a watcher on its file (wait.h); file_notify on
 * that file runs the watcher, which puts the item on the ready list when
 * the notify key meets the item's events.  Items are also put there when
 * added or modified while ready.  epoll_wait takes items off the ready
 * list, asks each file for its mask and reports the item if the mask meets
 * its events; then a level-triggered item goes back to the tail of the
 * list (it is looked at again next time, and the others get their turn
 * first), an edge-triggered one does not (only a new notify brings it
 * back: a partial read of a pipe does not, a new write does), and a
 * one-shot one is disabled until EPOLL_CTL_MOD.  Items not ready when
 * looked at drop off the list.  So a file type must call file_notify
 * whenever its readiness can rise, or level triggering misses it too.
 *
 * Items hold no reference to their file: closing the last descriptor of a
 * file removes it from every epoll set (the file's release op calls
 * file_watch_release), while a file still open through a dup stays
 * registered under its old descriptor number, exactly the Linux rules.
 * EPOLLEXCLUSIVE is accepted with Linux's checks; with one thread it
 * changes nothing.  Nesting epoll instances works, with ELOOP for cycles
 * and for chains deeper than EP_MAX_NESTS.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>
#include <linux/eventpoll.h>

#define EP_HASH_SIZE  256 /* item hash buckets per instance */
#define EP_MAX_NESTS  4	  /* epoll in epoll in ... (Linux's limit) */
#define EP_MAX_EVENTS (INT32_MAX / (int)sizeof(struct epoll_event))

/* Flags, not events; what a fired one-shot item keeps. */
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCLUSIVE_OK                                                        \
	(EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM |        \
	 EPOLLWRBAND | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET |           \
	 EPOLLEXCLUSIVE)

struct eventpoll;

struct epitem {
	struct file_watch watch; /* on file->watchers */
	struct eventpoll *ep;
	struct file *file; /* not a reference: see above */
	int fd;
	uint32_t events; /* asked for, with EPOLLERR | EPOLLHUP and flags */
	uint64_t data;	 /* the program's, returned verbatim */
	struct epitem *hnext;
	struct epitem *rnext, *rprev; /* ready list */
	bool ready;		      /* on the ready list */
};

struct eventpoll {
	struct file *file;
	struct epitem *hash[EP_HASH_SIZE];
	struct epitem *rhead, *rtail;
};

static const struct file_ops epoll_fops;

static bool ep_is_epoll(const struct file *f)
{
	return f->ops == &epoll_fops;
}

static unsigned int ep_hash(const struct file *f, int fd)
{
	uint64_t k = (uint64_t)(uintptr_t)f ^ (uint64_t)(unsigned int)fd;
	return (unsigned int)((k * 0x9e3779b97f4a7c15ULL) >> 56) % EP_HASH_SIZE;
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	struct epitem *epi = ep->hash[ep_hash(f, fd)];

	while (epi && !(epi->file == f && epi->fd == fd))
		epi = epi->hnext;
	return epi;
}

/* ---- the ready list ---- */

static void ep_ready_add(struct eventpoll *ep, struct epitem *epi)
{
	if (epi->ready)
		return;
	epi->ready = true;
	epi->rnext = NULL;
	epi->rprev = ep->rtail;
	if (ep->rtail)
		ep->rtail->rnext = epi;
	else
		ep->rhead = epi;
	ep->rtail = epi;
}

/* Back at the head: an event that could not be delivered. */
static void ep_ready_push(struct eventpoll *ep, struct epitem *epi)
{
	if (epi->ready)
		return;
	epi->ready = true;
	epi->rprev = NULL;
	epi->rnext = ep->rhead;
	if (ep->rhead)
		ep->rhead->rprev = epi;
	else
		ep->rtail = epi;
	ep->rhead = epi;
}

static void ep_ready_del(struct eventpoll *ep, struct epitem *epi)
{
	if (!epi->ready)
		return;
	if (epi->rprev)
		epi->rprev->rnext = epi->rnext;
	else
		ep->rhead = epi->rnext;
	if (epi->rnext)
		epi->rnext->rprev = epi->rprev;
	else
		ep->rtail = epi->rprev;
	epi->ready = false;
	epi->rnext = epi->rprev = NULL;
}

/* ---- items ---- */

static void ep_item_free(struct epitem *epi, bool detach)
{
	struct eventpoll *ep = epi->ep;
	struct epitem **pp = &ep->hash[ep_hash(epi->file, epi->fd)];

	while (*pp != epi)
		pp = &(*pp)->hnext;
	*pp = epi->hnext;
	ep_ready_del(ep, epi);
	if (detach)
		file_watch_del(epi->file, &epi->watch);
	kfree(epi);
}

/* The item's file may have become ready for key (see wait.h). */
static void ep_item_notify(struct file_watch *w, unsigned int key)
{
	struct epitem *epi = container_of(w, struct epitem, watch);
	struct eventpoll *ep = epi->ep;

	if (key == WAIT_POLLFREE) {
		ep_item_free(epi, false); /* already detached */
		return;
	}
	if (!(epi->events & ~EP_PRIVATE_BITS))
		return; /* a one-shot item that fired */
	if (key && !(key & epi->events))
		return;
	ep_ready_add(ep, epi);
	file_notify(ep->file, POLLIN | POLLRDNORM);
}

/* Queues the item if its file is ready for it now (after ADD, MOD). */
static void ep_item_check(struct epitem *epi)
{
	if (file_poll(epi->file) & epi->events) {
		ep_ready_add(epi->ep, epi);
		file_notify(epi->ep->file, POLLIN | POLLRDNORM);
	}
}

/* ---- nesting ---- */

/* Depth of epoll instances below ep (0: it watches none), or -1 when
 * target is among them (a cycle). */
static int ep_depth_below(struct eventpoll *ep, struct eventpoll *target)
{
	int depth = 0;

	if (ep == target)
		return -1;
	for (int b = 0; b < EP_HASH_SIZE; b++) {
		for (struct epitem *epi = ep->hash[b]; epi; epi = epi->hnext) {
			if (!ep_is_epoll(epi->file))
				continue;
			int d = ep_depth_below(epi->file->priv, target);
			if (d < 0)
				return -1;
			depth = MAX(depth, d + 1);
		}
	}
	return depth;
}

/* Depth of epoll instances above ep (0: nobody watches it). */
static int ep_depth_above(struct eventpoll *ep)
{
	int depth = 0;

	for (struct file_watch *w = ep->file->watchers; w; w = w->next) {
		if (w->notify != ep_item_notify)
			continue;
		struct epitem *epi = container_of(w, struct epitem, watch);
		depth = MAX(depth, ep_depth_above(epi->ep) + 1);
	}
	return depth;
}

/* ---- the epoll file ---- */

/* Readable when an item on the ready list is ready; prunes the others,
 * as Linux does when an epoll instance is polled. */
static unsigned int epoll_poll(struct file *f)
{
	struct eventpoll *ep = f->priv;
	struct epitem *epi, *next;

	for (epi = ep->rhead; epi; epi = next) {
		next = epi->rnext;
		if (file_poll(epi->file) & epi->events)
			return POLLIN | POLLRDNORM;
		ep_ready_del(ep, epi);
	}
	return 0;
}

static void epoll_release(struct file *f)
{
	struct eventpoll *ep = f->priv;

	file_watch_release(f); /* outer instances drop their items first */
	for (int b = 0; b < EP_HASH_SIZE; b++)
		while (ep->hash[b])
			ep_item_free(ep->hash[b], true);
	kfree(ep);
}

static const struct file_ops epoll_fops = {
    .getattr = fs_anon_getattr,
    .poll = epoll_poll,
    .release = epoll_release,
};

static long do_epoll_create(int flags)
{
	struct eventpoll *ep;
	struct file *f;
	int fd;

	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	ep = kzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	f = file_alloc(&epoll_fops, O_RDWR, NULL);
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	f->priv = ep;
	f->path = strdup("anon_inode:[eventpoll]");
	ep->file = f;
	fd = fd_install(f, 0, flags & EPOLL_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long sys_epoll_create1(int flags)
{
	return do_epoll_create(flags);
}
SYSCALL_REGISTER(__NR_epoll_create1, epoll_create1, sys_epoll_create1);

static long sys_epoll_create(int size)
{
	if (size <= 0)
		return -EINVAL;
	return do_epoll_create(0);
}
SYSCALL_REGISTER(__NR_epoll_create, epoll_create, sys_epoll_create);

/* ---- epoll_ctl ---- */

static long ep_insert(struct eventpoll *ep, struct file *tf, int fd,
		      const struct epoll_event *ev)
{
	struct epitem *epi;
	unsigned int b;

	if (ep_is_epoll(tf)) {
		int below = ep_depth_below(tf->priv, ep);
		if (below < 0 || below + 1 + ep_depth_above(ep) > EP_MAX_NESTS)
			return -ELOOP;
	}
	epi = kzalloc(sizeof(*epi));
	if (!epi)
		return -ENOMEM;
	epi->watch.notify = ep_item_notify;
	epi->ep = ep;
	epi->file = tf;
	epi->fd = fd;
	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	b = ep_hash(tf, fd);
	epi->hnext = ep->hash[b];
	ep->hash[b] = epi;
	file_watch_add(tf, &epi->watch);
	ep_item_check(epi);
	return 0;
}

static long ep_ctl(struct file *ef, struct file *tf, int op, int fd,
		   struct epoll_event *ev)
{
	struct eventpoll *ep;
	struct epitem *epi;

	if (!tf->ops->poll)
		return -EPERM; /* regular files, devices: as Linux */
	if (ef == tf || !ep_is_epoll(ef))
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD &&
		    (ep_is_epoll(tf) || (ev->events & ~EP_EXCLUSIVE_OK)))
			return -EINVAL;
	}
	ep = ef->priv;
	epi = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		return epi ? -EEXIST : ep_insert(ep, tf, fd, ev);
	case EPOLL_CTL_DEL:
		if (!epi)
			return -ENOENT;
		ep_item_free(epi, true);
		return 0;
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		if (epi->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		epi->events = ev->events | EPOLLERR | EPOLLHUP;
		epi->data = ev->data;
		ep_item_check(epi);
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *uev)
{
	struct epoll_event ev = {0, 0};
	struct file *ef, *tf;
	long r;

	if (op != EPOLL_CTL_DEL && copy_from_user(&ev, uev, sizeof(ev)))
		return -EFAULT;
	ef = fd_get(epfd);
	if (!ef)
		return -EBADF;
	tf = fd_get(fd);
	if (!tf) {
		file_put(ef);
		return -EBADF;
	}
	r = ep_ctl(ef, tf, op, fd, &ev);
	file_put(tf);
	file_put(ef);
	return r;
}
SYSCALL_REGISTER(__NR_epoll_ctl, epoll_ctl, sys_epoll_ctl);

/* ---- epoll_wait and friends ---- */

struct ep_harvest {
	struct eventpoll *ep;
	struct epoll_event *uevents;
	int max;
	int n;	 /* events delivered */
	int err; /* -EFAULT when the first one could not be */
};

/* Delivers up to max events straight to the program's array; true when
 * there was something (or a fault) to return. */
static bool ep_harvest(void *arg)
{
	struct ep_harvest *h = arg;
	struct eventpoll *ep = h->ep;
	struct epitem *last = ep->rtail;

	while (ep->rhead && h->n < h->max) {
		struct epitem *epi = ep->rhead;
		bool was_last = epi == last;
		struct epoll_event ev;

		ep_ready_del(ep, epi);
		ev.events = file_poll(epi->file) & epi->events;
		if (ev.events) {
			ev.data = epi->data;
			if (copy_to_user(&h->uevents[h->n], &ev, sizeof(ev))) {
				ep_ready_push(ep, epi);
				if (h->n == 0)
					h->err = -EFAULT;
				break;
			}
			h->n++;
			if (epi->events & EPOLLONESHOT)
				epi->events &= EP_PRIVATE_BITS;
			else if (!(epi->events & EPOLLET))
				ep_ready_add(ep, epi);
		}
		if (was_last)
			break;
	}
	return h->n > 0 || h->err;
}

static long do_epoll_wait(int epfd, struct epoll_event *uevents, int max,
			  uint64_t deadline)
{
	struct ep_harvest h = {NULL, uevents, max, 0, 0};
	struct file *f;

	if (max <= 0 || max > EP_MAX_EVENTS)
		return -EINVAL;
	if (!user_range_ok(uevents, sizeof(*uevents) * (size_t)max))
		return -EFAULT;
	f = fd_get(epfd);
	if (!f)
		return -EBADF;
	if (!ep_is_epoll(f)) {
		file_put(f);
		return -EINVAL;
	}
	h.ep = f->priv;
	int r = wait_until(ep_harvest, &h, deadline);
	file_put(f);
	if (h.err)
		return h.err;
	return r == -EINTR ? -EINTR : h.n; /* Linux's epoll never restarts */
}

static uint64_t ep_deadline_ms(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return wait_deadline_after((uint64_t)timeout_ms * 1000000);
}

static long sys_epoll_wait(int epfd, struct epoll_event *ev, int max,
			   int timeout_ms)
{
	return do_epoll_wait(epfd, ev, max, ep_deadline_ms(timeout_ms));
}
SYSCALL_REGISTER(__NR_epoll_wait, epoll_wait, sys_epoll_wait);

static long sys_epoll_pwait(int epfd, struct epoll_event *ev, int max,
			    int timeout_ms, const void *sigmask,
			    size_t sigsetsize)
{
	uint64_t deadline = ep_deadline_ms(timeout_ms);
	long r = wait_user_sigmask(sigmask, sigsetsize);

	if (r)
		return r;
	return do_epoll_wait(epfd, ev, max, deadline);
}
SYSCALL_REGISTER(__NR_epoll_pwait, epoll_pwait, sys_epoll_pwait);

static long sys_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			     const void *uts, const void *sigmask,
			     size_t sigsetsize)
{
	uint64_t deadline;
	long r = wait_user_timespec(uts, &deadline);

	if (r)
		return r;
	r = wait_user_sigmask(sigmask, sigsetsize);
	if (r)
		return r;
	return do_epoll_wait(epfd, ev, max, deadline);
}
SYSCALL_REGISTER(__NR_epoll_pwait2, epoll_pwait2, sys_epoll_pwait2);
