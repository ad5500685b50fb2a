/*
 * Time: clock_gettime (MONOTONIC increases, REALTIME is after 2024),
 * gettimeofday agrees with REALTIME, nanosleep and clock_nanosleep (relative
 * and TIMER_ABSTIME) sleep at least as long as asked by the monotonic
 * clock, and the error cases.  Only lower bounds: how long a sleep may
 * overshoot is a benchmark question, not a test.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "tap.h"

#define JAN_1_2024 1704067200LL

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The raw syscall: libc answers from the vDSO (tests/guest/vdso.c). */
static int64_t now_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	if (syscall(SYS_clock_gettime, clk, &t) != 0)
		return -1;
	return ns_of(&t);
}

int main(void)
{
	struct timespec t0, t1, req;
	struct timeval tv;

	CHECK_EQ("clock_gettime MONOTONIC",
		 syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t0), 0);
	CHECK(t0.tv_nsec >= 0 && t0.tv_nsec < 1000000000,
	      "MONOTONIC tv_nsec in range");
	int nondecreasing = 1;
	int64_t prev = ns_of(&t0), last = prev;
	for (int i = 0; i < 1000; i++) {
		last = now_ns(CLOCK_MONOTONIC);
		nondecreasing &= last >= prev;
		prev = last;
	}
	CHECK(nondecreasing, "MONOTONIC never goes back over 1000 reads");

	CHECK_EQ("clock_gettime REALTIME",
		 syscall(SYS_clock_gettime, CLOCK_REALTIME, &t1), 0);
	CHECK(t1.tv_sec > JAN_1_2024, "REALTIME is after 2024-01-01");
	CHECK(t1.tv_nsec >= 0 && t1.tv_nsec < 1000000000,
	      "REALTIME tv_nsec in range");
	CHECK_EQ("libc clock_gettime REALTIME",
		 clock_gettime(CLOCK_REALTIME, &t1), 0);
	CHECK(t1.tv_sec > JAN_1_2024, "libc REALTIME is after 2024-01-01");

	CHECK_EQ("gettimeofday (raw)", syscall(SYS_gettimeofday, &tv, NULL), 0);
	int64_t rt = now_ns(CLOCK_REALTIME) / 1000000000;
	CHECK(tv.tv_sec > JAN_1_2024 && tv.tv_sec <= rt && rt - tv.tv_sec < 5,
	      "gettimeofday agrees with REALTIME");
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000,
	      "gettimeofday tv_usec in range");
	CHECK_EQ("libc gettimeofday", gettimeofday(&tv, NULL), 0);
	CHECK(tv.tv_sec > JAN_1_2024, "libc gettimeofday is after 2024");
	CHECK_ERR("clock_gettime of an unknown clock is EINVAL",
		  syscall(SYS_clock_gettime, 12345, &t0), EINVAL);

	int64_t a = now_ns(CLOCK_MONOTONIC);
	req.tv_sec = 0;
	req.tv_nsec = 50 * 1000000;
	CHECK_EQ("nanosleep 50 ms", nanosleep(&req, NULL), 0);
	int64_t b = now_ns(CLOCK_MONOTONIC);
	if (b - a >= 50000000)
		tap_check(1, "nanosleep 50 ms took >= 50 ms by MONOTONIC");
	else
		tap_check(0,
			  "nanosleep 50 ms took >= 50 ms by MONOTONIC: got "
			  "%lld ns",
			  (long long)(b - a));
	CHECK(b > a, "MONOTONIC advanced across a sleep");

	req.tv_nsec = 1000000000;
	CHECK_ERR("nanosleep with tv_nsec 1e9 is EINVAL",
		  syscall(SYS_nanosleep, &req, NULL), EINVAL);
	req.tv_sec = -1;
	req.tv_nsec = 0;
	CHECK_ERR("nanosleep with negative tv_sec is EINVAL",
		  syscall(SYS_nanosleep, &req, NULL), EINVAL);
	req.tv_sec = 0;
	CHECK_EQ("nanosleep of 0 returns at once",
		 syscall(SYS_nanosleep, &req, NULL), 0);

	a = now_ns(CLOCK_MONOTONIC);
	req.tv_sec = 0;
	req.tv_nsec = 20 * 1000000;
	CHECK_EQ("clock_nanosleep MONOTONIC 20 ms",
		 syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL),
		 0);
	b = now_ns(CLOCK_MONOTONIC);
	CHECK(b - a >= 20000000, "clock_nanosleep 20 ms took >= 20 ms");

	int64_t deadline = now_ns(CLOCK_MONOTONIC) + 30000000;
	req.tv_sec = deadline / 1000000000;
	req.tv_nsec = deadline % 1000000000;
	CHECK_EQ("clock_nanosleep TIMER_ABSTIME +30 ms",
		 syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME,
			 &req, NULL),
		 0);
	CHECK(now_ns(CLOCK_MONOTONIC) >= deadline,
	      "TIMER_ABSTIME sleep ends after its deadline");
	req.tv_sec = 0;
	req.tv_nsec = 1000;
	CHECK_EQ("clock_nanosleep TIMER_ABSTIME in the past returns",
		 syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME,
			 &req, NULL),
		 0);
	CHECK_EQ("libc clock_nanosleep REALTIME 1 ms",
		 clock_nanosleep(CLOCK_REALTIME, 0,
				 &(struct timespec){0, 1000000}, NULL),
		 0);
	/* clock_nanosleep returns the error number rather than setting
	 * errno; the raw syscall returns -1/errno. */
	req.tv_nsec = 1000000000;
	CHECK_ERR("clock_nanosleep with tv_nsec 1e9 is EINVAL",
		  syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL),
		  EINVAL);
	return tap_done("time");
}
