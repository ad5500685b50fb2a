/*
 * The waiting primitive and readiness notification (see wait.h).
 *
 * wait_until checks its condition once with interrupts off and, when it
 * is not met, hands the condition to the scheduler (sched_block), which
 * runs other threads or halts the CPU until the condition, the deadline
 * or a signal ends the wait.  An interrupt that arrives while halting is
 * taken right after "sti" and ends the "hlt", so no wake-up is lost.
 */
#include "wait.h"

#include "../fs/vfs.h"

#include "arch.h"
#include "proc.h"
#include "sched.h"
#include "ksignal.h"
#include "uaccess.h"
#include "x86.h"

#include <asm/poll.h>

struct wait_poller {
	void (*fn)(void);
	uint64_t (*next)(void);
};

static struct wait_poller wait_pollers[WAIT_MAX_POLLERS];
static int wait_npollers;

void wait_register_poller(void (*fn)(void), uint64_t (*next)(void))
{
	if (wait_npollers >= WAIT_MAX_POLLERS)
		panic("wait: more than %d pollers", WAIT_MAX_POLLERS);
	wait_pollers[wait_npollers].fn = fn;
	wait_pollers[wait_npollers].next = next;
	wait_npollers++;
}

void wait_run_pollers(void)
{
	for (int i = 0; i < wait_npollers; i++)
		wait_pollers[i].fn();
}

uint64_t wait_pollers_due(uint64_t now)
{
	uint64_t due = UINT64_MAX;

	for (int i = 0; i < wait_npollers; i++) {
		uint64_t t = wait_pollers[i].next ? wait_pollers[i].next()
						  : now + WAIT_POLL_PERIOD_NS;
		due = MIN(due, t);
	}
	return due;
}

uint64_t wait_deadline_after(uint64_t ns)
{
	uint64_t now = clock_monotonic_ns();

	if (ns >= UINT64_MAX - now)
		return UINT64_MAX;
	return now + ns;
}

static int wait_common(bool (*ready)(void *arg), void *arg,
		       uint64_t deadline_ns, bool intr)
{
	wait_run_pollers();
	if (ready(arg))
		return 0;
	if (intr && signal_pending(current))
		return -EINTR;
	if (clock_monotonic_ns() >= deadline_ns)
		return -ETIMEDOUT;
	return sched_block(ready, arg, deadline_ns, intr);
}

int wait_until(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns)
{
	return wait_common(ready, arg, deadline_ns, true);
}

int wait_until_uninterruptible(bool (*ready)(void *arg), void *arg,
			       uint64_t deadline_ns)
{
	return wait_common(ready, arg, deadline_ns, false);
}

#define NSEC_PER_SEC 1000000000ULL

static bool wait_never(void *arg)
{
	return false;
}

int wait_sleep_until(uint64_t deadline_ns)
{
	int r = wait_until(wait_never, NULL, deadline_ns);
	return r == -ETIMEDOUT ? 0 : r;
}

int user_timespec_ns(const void *uts, uint64_t *ns)
{
	struct {
		int64_t sec, nsec;
	} ts;

	if (copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	if ((uint64_t)ts.sec >= UINT64_MAX / NSEC_PER_SEC)
		*ns = UINT64_MAX;
	else
		*ns = (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
	return 0;
}

int wait_user_timespec(const void *uts, uint64_t *deadline)
{
	uint64_t ns;

	*deadline = UINT64_MAX;
	if (!uts)
		return 0;
	int r = user_timespec_ns(uts, &ns);
	if (r)
		return r;
	*deadline = wait_deadline_after(ns);
	return 0;
}

int wait_user_sigmask(const void *umask, size_t size)
{
	uint64_t mask;

	if (!umask)
		return 0;
	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	signal_set_temp_mask(mask);
	return 0;
}

/* ---- readiness ---- */

unsigned int file_poll(struct file *f)
{
	if (f->ops->poll)
		return f->ops->poll(f);
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

void file_watch_add(struct file *f, struct file_watch *w)
{
	w->next = f->watchers;
	f->watchers = w;
}

void file_watch_del(struct file *f, struct file_watch *w)
{
	for (struct file_watch **pp = &f->watchers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			w->next = NULL;
			return;
		}
	}
}

void file_notify(struct file *f, unsigned int events)
{
	struct file_watch *w, *next;

	/* A blocked thread may be waiting for this file. */
	sched_kick();
	/* Callbacks never detach another watcher of this file, but may
	 * cascade into the watchers of other files (an epoll instance
	 * tells those who watch it); take next first all the same. */
	for (w = f->watchers; w; w = next) {
		next = w->next;
		w->notify(w, events);
	}
}

void file_watch_release(struct file *f)
{
	struct file_watch *w;

	while ((w = f->watchers)) {
		f->watchers = w->next;
		w->next = NULL;
		w->notify(w, WAIT_POLLFREE);
	}
}
