/*
 * Time syscalls.  Sleeping halts the CPU until a one-shot APIC timer fires
 * at the deadline, so an idle program costs the host nothing.
 */
#include "arch.h"
#include "net.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"
#include "x86.h"
#include <linux/time.h>

#define NSEC 1000000000ULL

struct kts {
	int64_t sec, nsec;
};

struct ktv {
	int64_t sec, usec;
};

static int clock_read(long id, uint64_t *ns)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		*ns = clock_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		/* One program on a dedicated vCPU: its CPU time is close to
		 * the time since boot. */
		*ns = clock_monotonic_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_clock_gettime(long id, struct kts *ts)
{
	uint64_t ns;
	int r = clock_read(id, &ns);
	if (r)
		return r;
	struct kts k = {(int64_t)(ns / NSEC), (int64_t)(ns % NSEC)};
	return copy_to_user(ts, &k, sizeof(k)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_clock_gettime, clock_gettime, sys_clock_gettime);

static long sys_clock_getres(long id, struct kts *ts)
{
	uint64_t ns;
	int r = clock_read(id, &ns);
	if (r)
		return r;
	struct kts k = {0, 1};
	if (ts && copy_to_user(ts, &k, sizeof(k)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_clock_getres, clock_getres, sys_clock_getres);

static long sys_gettimeofday(struct ktv *tv, void *tz)
{
	uint64_t ns = clock_realtime_ns();
	struct ktv k = {(int64_t)(ns / NSEC), (int64_t)(ns % NSEC / 1000)};
	if (tv && copy_to_user(tv, &k, sizeof(k)))
		return -EFAULT;
	if (tz) {
		int32_t z[2] = {0, 0};
		if (copy_to_user(tz, z, sizeof(z)))
			return -EFAULT;
	}
	return 0;
}
SYSCALL_REGISTER(__NR_gettimeofday, gettimeofday, sys_gettimeofday);

static long sys_time(int64_t *t)
{
	int64_t s = (int64_t)(clock_realtime_ns() / NSEC);
	if (t && copy_to_user(t, &s, sizeof(s)))
		return -EFAULT;
	return s;
}
SYSCALL_REGISTER(__NR_time, time, sys_time);

/* Sleeps until the monotonic clock reaches deadline.  The network's
 * work (frames received while halted, lwIP's timers) is done after every
 * wake-up, so a sleeping program still answers the network. */
static void sleep_until(uint64_t deadline)
{
	for (;;) {
		net_poll();
		uint64_t now = clock_monotonic_ns();
		if (now >= deadline)
			break;
		uint64_t wake = MIN(deadline, net_poll_deadline());
		if (wake <= now)
			continue;
		apic_timer_oneshot(wake - now);
		irq_enable_and_halt();
		irq_disable();
	}
	apic_timer_cancel();
}

static int ts_read(const struct kts *uts, uint64_t *ns)
{
	struct kts k;
	if (copy_from_user(&k, uts, sizeof(k)))
		return -EFAULT;
	if (k.sec < 0 || k.nsec < 0 || k.nsec >= (int64_t)NSEC)
		return -EINVAL;
	if ((uint64_t)k.sec > UINT64_MAX / NSEC / 2)
		*ns = UINT64_MAX / 2;
	else
		*ns = (uint64_t)k.sec * NSEC + (uint64_t)k.nsec;
	return 0;
}

static long sys_clock_nanosleep(long id, long flags, const struct kts *req,
				struct kts *rem)
{
	uint64_t ns, now;
	int r = clock_read(id, &now);
	if (r)
		return r == -EINVAL ? -EINVAL : r;
	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	r = ts_read(req, &ns);
	if (r)
		return r;
	uint64_t mono = clock_monotonic_ns();
	uint64_t deadline;
	if (flags & TIMER_ABSTIME)
		deadline = ns <= now ? mono : mono + (ns - now);
	else
		deadline = mono + ns;
	sleep_until(deadline);
	return 0;
}
SYSCALL_REGISTER(__NR_clock_nanosleep, clock_nanosleep, sys_clock_nanosleep);

static long sys_nanosleep(const struct kts *req, struct kts *rem)
{
	return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}
SYSCALL_REGISTER(__NR_nanosleep, nanosleep, sys_nanosleep);
