/*
 * POSIX interval timers (timer_create(2) and friends): per-process timers
 * that send a signal, to the process (SIGEV_SIGNAL) or to one thread
 * (SIGEV_THREAD_ID, what glibc's SIGEV_THREAD runs on), or nothing
 * (SIGEV_NONE, read with timer_gettime).
 *
 * Every timer is a deadline on the monotonic clock, kept on the same
 * process timer queue as ITIMER_REAL and alarm: the scheduler calls
 * signal_timers_run, and so ptimer_run, when the earliest one is due,
 * and sleeps until then.  An absolute CLOCK_REALTIME time is converted
 * when it is set (the wall clock cannot be set here, so the two never
 * move apart).  The CPU-time clocks run with the monotonic clock, as
 * clock_gettime reports them (one program on its own vCPU).
 *
 * The signal carries si_code SI_TIMER, si_timerid, si_value and
 * si_overrun.  One signal per timer is pending at a time: an expiry
 * while it is still pending, or periods missed between two runs, count
 * as overruns instead, which the signal reports when it is taken (and
 * timer_getoverrun afterwards), as on Linux.
 */
#include "ksignal.h"
#include "mm.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"

#define PT_NSEC	       1000000000ULL
#define PT_MAX	       256 /* timers per process (Linux: RLIMIT_SIGPENDING) */
#define PT_SIGMAX      64
#define TIMER_ABSTIME  1
#define SI_TIMER       (-2)
#define DELAYTIMER_MAX 0x7fffffff
#define PT_MIN_GAP     100000ULL /* ns between two runs for one timer */

#define SIGEV_SIGNAL	0
#define SIGEV_NONE	1
#define SIGEV_THREAD	2
#define SIGEV_THREAD_ID 4

struct ptimer {
	bool realtime; /* an absolute time is on the wall clock */
	int notify;    /* SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID */
	int signo;
	int tid;	   /* SIGEV_THREAD_ID's target */
	uint64_t value;	   /* si_value */
	uint64_t expiry;   /* next expiry, monotonic ns; 0: disarmed */
	uint64_t interval; /* 0: one-shot */
	uint64_t overrun;  /* expiries merged into the pending signal */
	int overrun_last;  /* what the last signal taken reported */
};

/* The user's struct sigevent (64 bytes). */
struct usigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid; /* sigev_notify_thread_id */
	int32_t pad[11];
};

struct pt_itimerspec {
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

static struct ptimer *timers[PT_MAX];

static struct ptimer *pt_find(long id)
{
	if (id < 0 || id >= PT_MAX)
		return NULL;
	return timers[id];
}

/* Counts the expiries up to now and moves expiry past now (an interval
 * timer) or disarms (a one-shot one); returns how many passed. */
static uint64_t pt_advance(struct ptimer *p, uint64_t now)
{
	if (!p->expiry || now < p->expiry)
		return 0;
	if (!p->interval) {
		p->expiry = 0;
		return 1;
	}
	uint64_t n = (now - p->expiry) / p->interval + 1;
	if (n > (UINT64_MAX - p->expiry) / p->interval)
		p->expiry = 0; /* next expiry past the end of time */
	else
		p->expiry += n * p->interval;
	return n;
}

static void pt_fire(int id, struct ptimer *p, uint64_t count)
{
	if (signal_timer_pending(p->signo, id, false)) {
		p->overrun += count;
		return;
	}
	p->overrun += count - 1;
	struct ksiginfo info = {
	    .code = SI_TIMER,
	    .a = (uint32_t)id,
	    .b = p->value,
	};
	struct task *t = NULL;
	if (p->notify == SIGEV_THREAD_ID)
		t = sched_find(p->tid);
	if (t)
		signal_send_thread(t, p->signo, &info);
	else
		signal_send_process(p->signo, &info);
}

uint64_t ptimer_run(uint64_t now)
{
	uint64_t due = UINT64_MAX;

	for (int id = 0; id < PT_MAX; id++) {
		struct ptimer *p = timers[id];
		/* SIGEV_NONE timers are only looked at (pt_current). */
		if (!p || !p->expiry || p->notify == SIGEV_NONE)
			continue;
		uint64_t n = pt_advance(p, now);
		if (n)
			pt_fire(id, p, n);
		/* Expiries are counted from the clock, so a tiny interval
		 * needs no wake-up per period: at most one per PT_MIN_GAP. */
		if (p->expiry)
			due = MIN(due, MAX(p->expiry, now + PT_MIN_GAP));
	}
	return due;
}

void ptimer_collect(struct ksiginfo *info)
{
	int id = (int)(uint32_t)info->a;
	struct ptimer *p = pt_find(id);

	if (!p)
		return; /* deleted since: no overruns to report */
	/* Periods that passed since the last run count too. */
	p->overrun += pt_advance(p, clock_monotonic_ns());
	p->overrun_last = (int)MIN(p->overrun, (uint64_t)DELAYTIMER_MAX);
	p->overrun = 0;
	info->a = (uint32_t)id | (uint64_t)(uint32_t)p->overrun_last << 32;
}

static long sys_timer_create(long clockid, const struct usigevent *uev,
			     int *uid)
{
	struct usigevent ev;
	int id;

	switch (clockid) {
	case 0:	 /* CLOCK_REALTIME */
	case 1:	 /* CLOCK_MONOTONIC */
	case 2:	 /* CLOCK_PROCESS_CPUTIME_ID */
	case 3:	 /* CLOCK_THREAD_CPUTIME_ID */
	case 7:	 /* CLOCK_BOOTTIME */
	case 8:	 /* CLOCK_REALTIME_ALARM */
	case 9:	 /* CLOCK_BOOTTIME_ALARM */
	case 11: /* CLOCK_TAI */
		break;
	case 4:			    /* CLOCK_MONOTONIC_RAW */
	case 5:			    /* CLOCK_REALTIME_COARSE */
	case 6:			    /* CLOCK_MONOTONIC_COARSE */
		return -EOPNOTSUPP; /* clocks Linux has no timers on */
	default:
		return -EINVAL;
	}
	if (uev) {
		if (copy_from_user(&ev, uev, sizeof(ev)))
			return -EFAULT;
	} else {
		memset(&ev, 0, sizeof(ev));
		ev.notify = SIGEV_SIGNAL;
		ev.signo = KSIGALRM;
	}
	switch (ev.notify) {
	case SIGEV_THREAD_ID:
		if (!sched_find(ev.tid))
			return -EINVAL; /* one of this process's threads */
		if (ev.signo <= 0 || ev.signo > PT_SIGMAX)
			return -EINVAL;
		break;
	case SIGEV_SIGNAL:
	case SIGEV_THREAD: /* glibc never passes it down; Linux: a signal */
		if (ev.signo <= 0 || ev.signo > PT_SIGMAX)
			return -EINVAL;
		break;
	case SIGEV_NONE:
		break;
	default:
		return -EINVAL;
	}
	for (id = 0; id < PT_MAX && timers[id]; id++)
		;
	if (id == PT_MAX)
		return -EAGAIN;
	struct ptimer *p = kzalloc(sizeof(*p));
	if (!p)
		return -EAGAIN;
	p->realtime = clockid == 0 || clockid == 8 || clockid == 11;
	p->notify = ev.notify == SIGEV_THREAD ? SIGEV_SIGNAL : ev.notify;
	p->signo = ev.signo;
	p->tid = ev.tid;
	/* Without a sigevent, si_value is the timer's id. */
	p->value = uev ? ev.value : (uint64_t)id;
	if (copy_to_user(uid, &id, sizeof(id))) {
		kfree(p);
		return -EFAULT;
	}
	timers[id] = p;
	return 0;
}
SYSCALL_REGISTER(__NR_timer_create, timer_create, sys_timer_create);

static void pt_split(uint64_t ns, int64_t *sec, int64_t *nsec)
{
	*sec = (int64_t)(ns / PT_NSEC);
	*nsec = (int64_t)(ns % PT_NSEC);
}

static void pt_current(struct ptimer *p, struct pt_itimerspec *its)
{
	uint64_t now = clock_monotonic_ns();
	uint64_t left = 0;

	if (p->notify == SIGEV_NONE)
		pt_advance(p, now); /* nothing else moves it on */
	if (p->expiry)
		left = p->expiry > now ? p->expiry - now : 1;
	pt_split(left, &its->value_sec, &its->value_nsec);
	pt_split(p->interval, &its->interval_sec, &its->interval_nsec);
}

static bool pt_valid(int64_t sec, int64_t nsec)
{
	return sec >= 0 && nsec >= 0 && nsec < (int64_t)PT_NSEC;
}

static uint64_t pt_ns(int64_t sec, int64_t nsec)
{
	if ((uint64_t)sec >= UINT64_MAX / PT_NSEC / 2)
		return UINT64_MAX / 2;
	return (uint64_t)sec * PT_NSEC + (uint64_t)nsec;
}

static long sys_timer_settime(long id, long flags,
			      const struct pt_itimerspec *unew,
			      struct pt_itimerspec *uold)
{
	struct pt_itimerspec nv, ov;
	struct ptimer *p;

	if (!unew)
		return -EINVAL;
	if (copy_from_user(&nv, unew, sizeof(nv)))
		return -EFAULT;
	p = pt_find(id);
	if (!p)
		return -EINVAL;
	if (!pt_valid(nv.value_sec, nv.value_nsec) ||
	    !pt_valid(nv.interval_sec, nv.interval_nsec))
		return -EINVAL;
	pt_current(p, &ov);
	if (uold && copy_to_user(uold, &ov, sizeof(ov)))
		return -EFAULT;

	uint64_t now = clock_monotonic_ns();
	uint64_t value = pt_ns(nv.value_sec, nv.value_nsec);
	p->interval = pt_ns(nv.interval_sec, nv.interval_nsec);
	p->overrun = 0;
	if (!value) {
		p->expiry = 0; /* disarmed; the interval is still reported */
	} else if (!(flags & TIMER_ABSTIME)) {
		p->expiry = now + value;
	} else if (p->realtime) {
		uint64_t rt = clock_realtime_ns();
		p->expiry = now + (value > rt ? value - rt : 0);
	} else {
		p->expiry = value;
	}
	if (p->expiry == 0 && value)
		p->expiry = 1; /* an absolute 0 ns after boot: due at once */
	sched_timer_changed();
	return 0;
}
SYSCALL_REGISTER(__NR_timer_settime, timer_settime, sys_timer_settime);

static long sys_timer_gettime(long id, struct pt_itimerspec *ucur)
{
	struct pt_itimerspec cur;
	struct ptimer *p = pt_find(id);

	if (!p)
		return -EINVAL;
	pt_current(p, &cur);
	return copy_to_user(ucur, &cur, sizeof(cur)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_timer_gettime, timer_gettime, sys_timer_gettime);

static long sys_timer_getoverrun(long id)
{
	struct ptimer *p = pt_find(id);

	return p ? p->overrun_last : -EINVAL;
}
SYSCALL_REGISTER(__NR_timer_getoverrun, timer_getoverrun, sys_timer_getoverrun);

static long sys_timer_delete(long id)
{
	struct ptimer *p = pt_find(id);

	if (!p)
		return -EINVAL;
	timers[id] = NULL;
	/* Its signal goes too (Linux 6.13 on), so the id can be reused. */
	if (p->notify != SIGEV_NONE)
		signal_timer_pending(p->signo, (int)id, true);
	kfree(p);
	sched_timer_changed();
	return 0;
}
SYSCALL_REGISTER(__NR_timer_delete, timer_delete, sys_timer_delete);
