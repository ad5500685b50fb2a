/*
 * timerfd_create, timerfd_settime, timerfd_gettime (timerfd_create(2)): a
 * timer behind a descriptor.  A read of at least 8 bytes waits for the
 * first expiry and returns the number of expiries since the last read (or
 * settime) as a u64; TFD_NONBLOCK makes it EAGAIN.  The descriptor is
 * readable while that count is non-zero, so poll, select and epoll see it.
 *
 * Every timer is kept as a deadline on the monotonic clock, which is what
 * the scheduler sleeps on.  An absolute CLOCK_REALTIME time is converted
 * when it is set: the kernel has no way to set the wall clock, so the two
 * clocks never move apart and TFD_TIMER_CANCEL_ON_SET never cancels.
 * Expiries are counted lazily, from the clock, whenever someone looks.
 * Nothing changes a timer's readiness but time, so one poller
 * (wait_register_poller) tells epoll's watchers when a timer fires and
 * tells the scheduler, through its next hook, when to wake up for the
 * earliest armed timer nobody has been told about yet.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>

#define TFD_NSEC		 1000000000ULL
#define TFD_CLOCK_REALTIME	 0
#define TFD_CLOCK_MONOTONIC	 1
#define TFD_CLOCK_BOOTTIME	 7
#define TFD_CLOCK_REALTIME_ALARM 8
#define TFD_CLOCK_BOOTTIME_ALARM 9
#define TFD_TIMER_ABSTIME	 1
#define TFD_TIMER_CANCEL_ON_SET	 2
#define TFD_CREATE_FLAGS	 (O_CLOEXEC | O_NONBLOCK)

struct timerfd {
	struct timerfd *next; /* every timerfd, for the poller */
	struct file *file;
	bool realtime;	   /* REALTIME or REALTIME_ALARM: absolute times */
	bool armed;	   /* expiry is meaningful */
	uint64_t expiry;   /* next expiry, monotonic ns */
	uint64_t interval; /* 0: one-shot */
	uint64_t ticks;	   /* expiries not yet read */
	bool notified;	   /* watchers told about ticks > 0 */
};

/* The user's struct itimerspec, as two struct timespec of 64-bit fields. */
struct tfd_itimerspec {
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

static struct timerfd *tfd_list;
static bool tfd_poller_registered;

/* Counts the expiries up to now into ticks and moves expiry past now (an
 * interval timer) or disarms (a one-shot one). */
static void tfd_update(struct timerfd *t, uint64_t now)
{
	if (!t->armed || now < t->expiry)
		return;
	if (!t->interval) {
		t->ticks++;
		t->armed = false;
		return;
	}
	uint64_t n = (now - t->expiry) / t->interval + 1;
	t->ticks += n;
	if (n > (UINT64_MAX - t->expiry) / t->interval)
		t->armed = false; /* next expiry past the end of time */
	else
		t->expiry += n * t->interval;
}

/* The poller: tells the watchers (epoll) about timers that fired. */
static void tfd_poll_all(void)
{
	uint64_t now = clock_monotonic_ns();

	for (struct timerfd *t = tfd_list; t; t = t->next) {
		tfd_update(t, now);
		if (t->ticks && !t->notified) {
			t->notified = true;
			file_notify(t->file, POLLIN);
		}
	}
}

/* When the poller must run again: the earliest expiry that would make a
 * timer readable that nobody was told about. */
static uint64_t tfd_next_due(void)
{
	uint64_t due = UINT64_MAX;

	for (struct timerfd *t = tfd_list; t; t = t->next) {
		if (t->ticks && !t->notified)
			return 0;
		if (!t->ticks && t->armed)
			due = MIN(due, t->expiry);
	}
	return due;
}

static bool tfd_fired(void *arg)
{
	struct timerfd *t = arg;

	tfd_update(t, clock_monotonic_ns());
	return t->ticks > 0;
}

static ssize_t tfd_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			bool user)
{
	struct timerfd *t = f->priv;
	uint64_t v;

	if (n < sizeof(v))
		return -EINVAL;
	while (!tfd_fired(t)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		/* The expiry as deadline too: the wait never depends on the
		 * poller alone to end. */
		int r =
		    wait_until(tfd_fired, t, t->armed ? t->expiry : UINT64_MAX);
		if (r == -EINTR)
			return -ERESTARTSYS;
	}
	v = t->ticks;
	t->ticks = 0;
	t->notified = false;
	/* Consumed even if the copy faults, as on Linux. */
	if (fs_copy_out(buf, &v, sizeof(v), user))
		return -EFAULT;
	return sizeof(v);
}

static unsigned int tfd_poll(struct file *f)
{
	return tfd_fired(f->priv) ? POLLIN | POLLRDNORM : 0;
}

static void tfd_release(struct file *f)
{
	struct timerfd *t = f->priv;

	for (struct timerfd **pp = &tfd_list; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	file_watch_release(f);
	kfree(t);
}

/* No write op: write(2) on a timerfd is EINVAL, as on Linux. */
static const struct file_ops tfd_fops = {
    .read = tfd_read,
    .getattr = fs_anon_getattr,
    .poll = tfd_poll,
    .release = tfd_release,
};

static long sys_timerfd_create(int clockid, int flags)
{
	struct timerfd *t;
	struct file *f;
	int fd;

	if (flags & ~TFD_CREATE_FLAGS)
		return -EINVAL;
	/* The alarm clocks are the plain ones: there is no suspend to wake
	 * from, and the program is root (CAP_WAKE_ALARM). */
	switch (clockid) {
	case TFD_CLOCK_REALTIME:
	case TFD_CLOCK_MONOTONIC:
	case TFD_CLOCK_BOOTTIME:
	case TFD_CLOCK_REALTIME_ALARM:
	case TFD_CLOCK_BOOTTIME_ALARM:
		break;
	default:
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->realtime = clockid == TFD_CLOCK_REALTIME ||
		      clockid == TFD_CLOCK_REALTIME_ALARM;
	f = file_alloc(&tfd_fops, O_RDWR | (flags & O_NONBLOCK), NULL);
	if (!f) {
		kfree(t);
		return -ENOMEM;
	}
	t->file = f;
	f->priv = t;
	f->path = strdup("anon_inode:[timerfd]");
	t->next = tfd_list;
	tfd_list = t;
	if (!tfd_poller_registered) {
		wait_register_poller(tfd_poll_all, tfd_next_due);
		tfd_poller_registered = true;
	}
	fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}
SYSCALL_REGISTER(__NR_timerfd_create, timerfd_create, sys_timerfd_create);

/* The timerfd behind fd with a new reference: -EBADF, or -EINVAL for a
 * descriptor of another kind (Linux's answer). */
static int tfd_get(int fd, struct file **out)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->ops != &tfd_fops) {
		file_put(f);
		return -EINVAL;
	}
	*out = f;
	return 0;
}

static void tfd_split(uint64_t ns, int64_t *sec, int64_t *nsec)
{
	*sec = (int64_t)(ns / TFD_NSEC);
	*nsec = (int64_t)(ns % TFD_NSEC);
}

/* The current setting: time to the next expiry (0 when disarmed) and the
 * interval. */
static void tfd_current(struct timerfd *t, struct tfd_itimerspec *its)
{
	uint64_t now = clock_monotonic_ns();
	uint64_t left = 0;

	tfd_update(t, now);
	if (t->armed)
		left = t->expiry > now ? t->expiry - now : 1;
	tfd_split(left, &its->value_sec, &its->value_nsec);
	tfd_split(t->interval, &its->interval_sec, &its->interval_nsec);
}

static bool tfd_valid(int64_t sec, int64_t nsec)
{
	return sec >= 0 && nsec >= 0 && nsec < (int64_t)TFD_NSEC;
}

static uint64_t tfd_ns(int64_t sec, int64_t nsec)
{
	if ((uint64_t)sec >= UINT64_MAX / TFD_NSEC)
		return UINT64_MAX;
	return (uint64_t)sec * TFD_NSEC + (uint64_t)nsec;
}

static long sys_timerfd_settime(int fd, int flags, const void *unew, void *uold)
{
	struct tfd_itimerspec nv, ov;
	struct timerfd *t;
	struct file *f;
	uint64_t now, value;
	int r;

	if (copy_from_user(&nv, unew, sizeof(nv)))
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    !tfd_valid(nv.value_sec, nv.value_nsec) ||
	    !tfd_valid(nv.interval_sec, nv.interval_nsec))
		return -EINVAL;
	r = tfd_get(fd, &f);
	if (r)
		return r;
	t = f->priv;
	tfd_current(t, &ov);
	now = clock_monotonic_ns();
	value = tfd_ns(nv.value_sec, nv.value_nsec);
	t->interval = tfd_ns(nv.interval_sec, nv.interval_nsec);
	t->ticks = 0;
	t->notified = false;
	t->armed = value != 0;
	if (!t->armed) {
		/* disarmed: the interval is still reported, as Linux does */
	} else if (!(flags & TFD_TIMER_ABSTIME)) {
		t->expiry =
		    value >= UINT64_MAX - now ? UINT64_MAX : now + value;
	} else if (t->realtime) {
		uint64_t rt = clock_realtime_ns();
		uint64_t after = value > rt ? value - rt : 0;
		t->expiry =
		    after >= UINT64_MAX - now ? UINT64_MAX : now + after;
	} else {
		t->expiry = value; /* in the past: fires at once */
	}
	file_put(f);
	/* The scheduler's timer may have to fire earlier now. */
	sched_kick();
	if (uold && copy_to_user(uold, &ov, sizeof(ov)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_timerfd_settime, timerfd_settime, sys_timerfd_settime);

static long sys_timerfd_gettime(int fd, void *ucur)
{
	struct tfd_itimerspec cur;
	struct file *f;
	int r;

	r = tfd_get(fd, &f);
	if (r)
		return r;
	tfd_current(f->priv, &cur);
	file_put(f);
	if (copy_to_user(ucur, &cur, sizeof(cur)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_timerfd_gettime, timerfd_gettime, sys_timerfd_gettime);
