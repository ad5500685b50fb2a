/*
 * Threads: pthread_create/join through clone (glibc tries clone3 first),
 * futex-based locks, condition variables and barriers, thread-local
 * storage, tids, the clear-child-tid wake pthread_join depends on,
 * robust mutexes of a thread that died holding them, sched_yield and
 * affinity, and preemption: a thread spinning in user mode without a
 * syscall must not keep a sleeping thread from running (without a timer
 * preemption this program hangs and the runner reports it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define NTHREADS 8
#define NINCR	 20000
#define NJOIN	 100

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

static void *incr(void *arg)
{
	for (int i = 0; i < NINCR; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 1000 == 0)
			sched_yield();
	}
	return arg;
}

/* Ping-pong through one condition variable: thread k waits for turn k. */
static void *pingpong(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int round = 0; round < 200; round++) {
		pthread_mutex_lock(&lock);
		while (turn % 2 != me)
			pthread_cond_wait(&cond, &lock);
		turn++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static __thread int tls_value = 42;
static __thread char tls_buf[64];

static void *tls_check(void *arg)
{
	int me = (int)(intptr_t)arg;
	int ok = tls_value == 42; /* each thread starts from the image */
	tls_value = me;
	snprintf(tls_buf, sizeof(tls_buf), "thread %d", me);
	usleep(1000);
	char want[64];
	snprintf(want, sizeof(want), "thread %d", me);
	ok = ok && tls_value == me && strcmp(tls_buf, want) == 0;
	return (void *)(intptr_t)ok;
}

static void *return_tid(void *arg)
{
	return (void *)(intptr_t)syscall(SYS_gettid);
}

static void *return_arg(void *arg)
{
	return arg;
}

static volatile int stop_spinning;

static void *spin(void *arg)
{
	/* No syscall in here: only the timer can take the CPU back. */
	while (!stop_spinning)
		;
	return arg;
}

static int pipe_fds[2];

static void *pipe_reader(void *arg)
{
	char buf[16] = {0};
	ssize_t n = read(pipe_fds[0], buf, sizeof(buf) - 1);
	return (void *)(intptr_t)(n == 5 && strcmp(buf, "hello") == 0);
}

static pthread_mutex_t robust;

static void *die_holding(void *arg)
{
	pthread_mutex_lock(&robust);
	return NULL; /* exits while owning it */
}

static pthread_barrier_t barrier;
static atomic_int before, after_all;

static void *barrier_worker(void *arg)
{
	atomic_fetch_add(&before, 1);
	pthread_barrier_wait(&barrier);
	/* Everyone arrived before anyone left. */
	if (atomic_load(&before) == NTHREADS)
		atomic_fetch_add(&after_all, 1);
	return NULL;
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	pthread_t t[NJOIN];
	void *ret;

	/* A counter behind a mutex: exact total or a lost update. */
	int created = 0;
	for (int i = 0; i < NTHREADS; i++)
		created += pthread_create(&t[i], NULL, incr, NULL) == 0;
	CHECK_EQ("8 threads created", created, NTHREADS);
	for (int i = 0; i < created; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ("mutex-protected counter is exact", counter,
		 (long)NTHREADS * NINCR);

	/* Condition variable ping-pong between two threads. */
	turn = 0;
	pthread_create(&t[0], NULL, pingpong, (void *)0);
	pthread_create(&t[1], NULL, pingpong, (void *)1);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CHECK_EQ("condition variable ping-pong took 400 turns", turn, 400);

	/* Many joins, each with its own return value. */
	int good = 0;
	for (int i = 0; i < NJOIN; i++)
		pthread_create(&t[i], NULL, return_arg, (void *)(intptr_t)i);
	for (int i = 0; i < NJOIN; i++)
		good += pthread_join(t[i], &ret) == 0 && (intptr_t)ret == i;
	CHECK_EQ("100 threads joined with their return values", good, NJOIN);

	/* Churn: thread after thread, each gone before the next. */
	good = 0;
	for (int i = 0; i < 2000; i++)
		good += pthread_create(&t[0], NULL, return_arg, NULL) == 0 &&
			pthread_join(t[0], NULL) == 0;
	CHECK_EQ("2000 threads created and joined in turn", good, 2000);

	/* Thread-local storage. */
	good = 0;
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, tls_check, (void *)(intptr_t)i);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &ret);
		good += (intptr_t)ret == 1;
	}
	CHECK_EQ("thread-local variables are per thread", good, NTHREADS);
	CHECK_EQ("... and the main thread's is untouched", tls_value, 42);

	/* Thread ids. */
	pid_t pid = getpid(), main_tid = (pid_t)syscall(SYS_gettid);
	CHECK_EQ("main thread's tid is the pid", main_tid, pid);
	pthread_create(&t[0], NULL, return_tid, NULL);
	pthread_create(&t[1], NULL, return_tid, NULL);
	void *tid0, *tid1;
	pthread_join(t[0], &tid0);
	pthread_join(t[1], &tid1);
	CHECK((intptr_t)tid0 != pid && (intptr_t)tid1 != pid && tid0 != tid1 &&
		  (intptr_t)tid0 > 0,
	      "other threads have their own tids");
	errno = 0;
	CHECK_ERR("tgkill to a thread that exited is ESRCH",
		  syscall(SYS_tgkill, pid, (pid_t)(intptr_t)tid0, 0), ESRCH);

	/* A reader blocked in read() while another thread writes. */
	CHECK_OK("pipe", pipe(pipe_fds));
	pthread_create(&t[0], NULL, pipe_reader, NULL);
	usleep(20000); /* the reader blocks first */
	CHECK_EQ("write to the blocked reader", write(pipe_fds[1], "hello", 5),
		 5);
	pthread_join(t[0], &ret);
	CHECK_EQ("the blocked read() got the bytes", (intptr_t)ret, 1);
	close(pipe_fds[0]);
	close(pipe_fds[1]);

	/* Preemption: the spinner never makes a syscall; the main thread
	 * still wakes from its sleep and stops it. */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pthread_create(&t[0], NULL, spin, (void *)7);
	usleep(50000);
	stop_spinning = 1;
	pthread_join(t[0], &ret);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_EQ("a spinning thread does not starve a sleeping one",
		 (intptr_t)ret, 7);
	CHECK(ms_between(&a, &b) >= 49, "... which slept its 50 ms");

	/* A barrier of 8. */
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, barrier_worker, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ("pthread_barrier_wait releases all 8 together",
		 atomic_load(&after_all), NTHREADS);

	/* A robust mutex whose owner died: the next locker is told. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_create(&t[0], NULL, die_holding, NULL);
	pthread_join(t[0], NULL);
	int r = pthread_mutex_lock(&robust);
	CHECK_EQ("locking a dead owner's robust mutex gives EOWNERDEAD", r,
		 EOWNERDEAD);
	if (r == EOWNERDEAD) {
		CHECK_EQ("pthread_mutex_consistent",
			 pthread_mutex_consistent(&robust), 0);
		pthread_mutex_unlock(&robust);
	}

	/* Scheduling calls. */
	CHECK_EQ("sched_yield", sched_yield(), 0);
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_OK("sched_getaffinity", sched_getaffinity(0, sizeof(set), &set));
	CHECK(CPU_ISSET(0, &set), "... includes CPU 0");
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK_OK("sched_setaffinity to CPU 0",
		 sched_setaffinity(0, sizeof(set), &set));
	CPU_ZERO(&set);
	errno = 0;
	CHECK_ERR("sched_setaffinity to no CPU is EINVAL",
		  sched_setaffinity(0, sizeof(set), &set), EINVAL);

	/* set_tid_address returns the caller's tid. */
	CHECK_EQ("set_tid_address returns the tid",
		 syscall(SYS_set_tid_address, NULL), main_tid);
	return tap_done("threads");
}
