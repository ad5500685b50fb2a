/*
 * futex(2) between threads, called directly (the libcs' locks use only a
 * few of the operations): WAKE counts the waiters it woke, REQUEUE and
 * CMP_REQUEUE move waiters to another word, WAKE_OP changes a second word
 * and wakes by a comparison, the BITSET variants match bits, a waiter
 * interrupted by a signal handler gets EINTR, a timed wait ETIMEDOUT.
 * Waiters announce themselves and the main thread lets them block for
 * 50 ms before it wakes them.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* <linux/futex.h> values (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE	  128
#define FUTEX_WAKE_PRIVATE	  129
#define FUTEX_REQUEUE_PRIVATE	  131
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE	  133
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_WAKE_BITSET_PRIVATE 138
#define FUTEX_OP(op, oparg, cmp, cmparg)                                       \
	(((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) |  \
	 (cmparg & 0xfff))
#define FUTEX_OP_SET	0
#define FUTEX_OP_CMP_EQ 0

static long futex(uint32_t *w, int op, uint32_t val, uintptr_t t, uint32_t *w2,
		  uint32_t val3)
{
	return syscall(SYS_futex, w, op, val, t, w2, val3);
}

static uint32_t word_a, word_b;
static atomic_int waiting, woken;

struct waiter {
	uint32_t *word;
	uint32_t bitset; /* 0: plain FUTEX_WAIT */
};

static void *wait_on(void *arg)
{
	struct waiter *w = arg;
	long r;

	atomic_fetch_add(&waiting, 1);
	if (w->bitset)
		r = futex(w->word, FUTEX_WAIT_BITSET_PRIVATE, 0, 0, NULL,
			  w->bitset);
	else
		r = futex(w->word, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0);
	if (r == 0)
		atomic_fetch_add(&woken, 1);
	return (void *)r;
}

/* Starts n waiters and returns once they have had 50 ms to block. */
static void start_waiters(pthread_t *t, struct waiter *w, int n)
{
	atomic_store(&waiting, 0);
	atomic_store(&woken, 0);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, wait_on, w);
	while (atomic_load(&waiting) < n)
		usleep(1000);
	usleep(50000);
}

static void join_all(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void on_usr1(int sig)
{
}

static void *wait_for_signal(void *arg)
{
	static uint32_t never;
	atomic_fetch_add(&waiting, 1);
	long r = futex(&never, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0);
	return (void *)(intptr_t)(r == -1 ? errno : 0);
}

int main(void)
{
	pthread_t t[4];
	struct waiter on_a = {&word_a, 0};

	start_waiters(t, &on_a, 3);
	CHECK_EQ("FUTEX_WAKE 2 of 3 waiters wakes 2",
		 futex(&word_a, FUTEX_WAKE_PRIVATE, 2, 0, NULL, 0), 2);
	CHECK_EQ("FUTEX_WAKE INT_MAX wakes the last one",
		 futex(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0), 1);
	join_all(t, 3);
	CHECK_EQ("... and all three returned 0", atomic_load(&woken), 3);

	/* CMP_REQUEUE: wake 1, move 2 to word_b. */
	start_waiters(t, &on_a, 3);
	errno = 0;
	CHECK_ERR("CMP_REQUEUE with a stale value is EAGAIN",
		  futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &word_b, 7),
		  EAGAIN);
	CHECK_EQ("CMP_REQUEUE wakes 1 and moves 2: returns 3",
		 futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &word_b, 0),
		 3);
	usleep(20000);
	CHECK_EQ("... one woke", atomic_load(&woken), 1);
	CHECK_EQ("... none left on the first word",
		 futex(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0), 0);
	CHECK_EQ("... two wait on the second word",
		 futex(&word_b, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0), 2);
	join_all(t, 3);

	/* REQUEUE without the compare. */
	start_waiters(t, &on_a, 2);
	CHECK_EQ("REQUEUE 0 woken, 2 moved",
		 futex(&word_a, FUTEX_REQUEUE_PRIVATE, 0, 2, &word_b, 0), 2);
	CHECK_EQ("... woken from the second word",
		 futex(&word_b, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0), 2);
	join_all(t, 2);

	/* Bitsets. */
	struct waiter bits = {&word_a, 0x1};
	start_waiters(t, &bits, 1);
	CHECK_EQ("WAKE_BITSET with other bits wakes nobody",
		 futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, NULL, 0x2), 0);
	CHECK_EQ("WAKE_BITSET with a shared bit wakes it",
		 futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, NULL, 0x3), 1);
	join_all(t, 1);

	/* WAKE_OP: word_b = 5; wake on a; wake on b if old b == 0. */
	struct waiter on_b = {&word_b, 0};
	word_b = 0;
	start_waiters(t, &on_a, 1);
	start_waiters(t + 1, &on_b, 1);
	CHECK_EQ("WAKE_OP wakes on both words when the comparison holds",
		 futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &word_b,
		       FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)),
		 2);
	CHECK_EQ("... and set the second word to 5", word_b, 5);
	join_all(t, 2);
	word_b = 0;

	/* A signal handler (without SA_RESTART) interrupts a wait. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	atomic_store(&waiting, 0);
	pthread_create(&t[0], NULL, wait_for_signal, NULL);
	while (atomic_load(&waiting) < 1)
		usleep(1000);
	usleep(50000);
	pthread_kill(t[0], SIGUSR1);
	void *err;
	pthread_join(t[0], &err);
	CHECK_EQ("a handled signal ends FUTEX_WAIT with EINTR", (intptr_t)err,
		 EINTR);

	struct timespec ts = {0, 20000000};
	errno = 0;
	CHECK_ERR(
	    "FUTEX_WAIT with a timeout: ETIMEDOUT",
	    futex(&word_a, FUTEX_WAIT_PRIVATE, 0, (uintptr_t)&ts, NULL, 0),
	    ETIMEDOUT);
	return tap_done("futex_threads");
}
