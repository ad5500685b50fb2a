/*
 * Time syscalls.  Sleeping is wait_sleep_until (kernel/sched/wait.c):
 * other threads run, or the CPU halts until the APIC one-shot timer fires
 * at the deadline, so an idle program costs the host nothing, and the
 * network is served meanwhile.  A signal ends a sleep early (EINTR).
 */
#include "arch.h"
#include "ksignal.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"
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

static long sys_clock_nanosleep(long id, long flags, const struct kts *req,
				struct kts *rem)
{
	uint64_t ns, now;
	int r = clock_read(id, &now);
	if (r)
		return r;
	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	r = user_timespec_ns(req, &ns);
	if (r)
		return r;
	/* An absolute time on the caller's clock becomes a distance from now
	 * on the monotonic clock the wait uses. */
	if (flags & TIMER_ABSTIME)
		ns = ns <= now ? 0 : ns - now;
	uint64_t deadline = wait_deadline_after(ns);
	if (wait_sleep_until(deadline) != -EINTR)
		return 0;
	/* Interrupted by a signal: a relative sleep tells how much was
	 * left; after a handler the program sees EINTR. */
	if (flags & TIMER_ABSTIME)
		return -ERESTARTNOHAND;
	if (rem) {
		uint64_t t = clock_monotonic_ns();
		uint64_t left = deadline > t ? deadline - t : 0;
		struct kts k = {(int64_t)(left / NSEC), (int64_t)(left % NSEC)};
		if (copy_to_user(rem, &k, sizeof(k)))
			return -EFAULT;
	}
	return -ERESTART_RESTARTBLOCK;
}
SYSCALL_REGISTER(__NR_clock_nanosleep, clock_nanosleep, sys_clock_nanosleep);

static long sys_nanosleep(const struct kts *req, struct kts *rem)
{
	return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}
SYSCALL_REGISTER(__NR_nanosleep, nanosleep, sys_nanosleep);
