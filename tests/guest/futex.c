/*
 * futex with one thread (what glibc's locks and getaddrinfo need before
 * threads exist): WAKE wakes nobody and says 0, WAIT on a word that
 * already differs is EAGAIN, WAIT with a timeout times out no earlier than
 * asked, absolute BITSET waits too; bad addresses and ops are refused.
 */
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> values (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE	  128
#define FUTEX_WAKE_PRIVATE	  129
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_BITSET_MATCH_ANY	  0xffffffffu

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *t,
		  uint32_t val3)
{
	return syscall(SYS_futex, w, op, val, t, NULL, val3);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	static uint32_t word = 5;
	struct timespec t = {0, 30 * 1000000}, start;

	CHECK_EQ("FUTEX_WAKE with no waiters",
		 futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, 0), 0);
	errno = 0;
	CHECK_EQ("FUTEX_WAIT on a changed word fails",
		 futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, 0), -1);
	CHECK_EQ("... with EAGAIN", errno, EAGAIN);

	clock_gettime(CLOCK_MONOTONIC, &start);
	errno = 0;
	CHECK_EQ("FUTEX_WAIT 30 ms times out",
		 futex(&word, FUTEX_WAIT_PRIVATE, 5, &t, 0), -1);
	CHECK_EQ("... with ETIMEDOUT", errno, ETIMEDOUT);
	CHECK(ms_since(&start) >= 29, "... after at least 30 ms");

	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20 * 1000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	errno = 0;
	CHECK_EQ("FUTEX_WAIT_BITSET to an absolute time",
		 futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs,
		       FUTEX_BITSET_MATCH_ANY),
		 -1);
	CHECK_EQ("... times out with ETIMEDOUT", errno, ETIMEDOUT);
	CHECK(ms_since(&start) >= 15, "... no earlier than asked");

	errno = 0;
	CHECK_EQ("FUTEX_WAIT_BITSET with mask 0 is refused",
		 futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, 0), -1);
	CHECK_EQ("... with EINVAL", errno, EINVAL);
	CHECK_EQ("FUTEX_WAKE never reads the word: 0 even when unmapped",
		 futex((uint32_t *)8, FUTEX_WAKE_PRIVATE, 1, NULL, 0), 0);
	errno = 0;
	CHECK_EQ("FUTEX_WAIT on an unmapped address",
		 futex((uint32_t *)8, FUTEX_WAIT_PRIVATE, 0, NULL, 0), -1);
	CHECK_EQ("... is EFAULT", errno, EFAULT);
	errno = 0;
	CHECK_EQ("FUTEX_WAIT with a bad timeout",
		 futex(&word, FUTEX_WAIT_PRIVATE, 5,
		       &(struct timespec){0, 2000000000}, 0),
		 -1);
	CHECK_EQ("... is EINVAL", errno, EINVAL);
	return tap_done("futex");
}
