/*
 * POSIX interval timers (timer_create and friends), through the raw
 * syscalls so the kernel's timer ids are seen: a relative one-shot timer
 * sends its signal with si_code SI_TIMER, si_timerid and si_value to an
 * SA_SIGINFO handler; a SIGEV_THREAD_ID timer signals the thread it names;
 * a fast interval timer whose signal stays blocked reports the missed
 * expiries as si_overrun and timer_getoverrun; TIMER_ABSTIME on MONOTONIC
 * and REALTIME (a past time fires at once); timer_gettime and the old
 * value of timer_settime; disarming stops a timer; a SIGEV_NONE timer
 * only counts down; libc's SIGEV_THREAD runs its function; and bad input
 * (ids, clocks, sigevents, timespecs, pointers).  Only lower bounds on
 * time: never how late a timer may be.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "tap.h"

#define MS  1000000LL
#define BAD ((void *)16)

/* The kernel's struct sigevent, filled by hand for SIGEV_THREAD_ID. */
struct ksigevent {
	union sigval value;
	int signo;
	int notify;
	int tid;
	int pad[11];
};

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

static volatile sig_atomic_t got_sig, got_code, got_timerid, got_value, got_tid;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_code = si->si_code;
	got_timerid = si->si_timerid;
	got_value = si->si_value.sival_int;
	got_tid = (sig_atomic_t)syscall(SYS_gettid);
	got_sig = sig;
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	syscall(SYS_clock_gettime, clk, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * MS};
	nanosleep(&ts, NULL);
}

/* Waits (at most 10 s, polling) for the handler to run. */
static int wait_sig(void)
{
	for (int i = 0; i < 2000 && !got_sig; i++)
		sleep_ms(5);
	return got_sig;
}

static struct itimerspec its_ns(int64_t value, int64_t interval)
{
	struct itimerspec its;
	its.it_value.tv_sec = value / 1000000000;
	its.it_value.tv_nsec = value % 1000000000;
	its.it_interval.tv_sec = interval / 1000000000;
	its.it_interval.tv_nsec = interval % 1000000000;
	return its;
}

static long k_create(clockid_t clk, void *ev, int *id)
{
	return syscall(SYS_timer_create, clk, ev, id);
}

static long k_settime(int id, int flags, const struct itimerspec *n,
		      struct itimerspec *old)
{
	return syscall(SYS_timer_settime, id, flags, n, old);
}

static void reset(void)
{
	got_sig = got_code = got_timerid = got_value = got_tid = 0;
}

static void test_signal_timer(void)
{
	struct ksigevent ev = {0};
	struct itimerspec its = its_ns(20 * MS, 0);
	int id = -1;

	ev.notify = SIGEV_SIGNAL;
	ev.signo = SIGUSR1;
	ev.value.sival_int = 4242;
	CHECK_OK("timer_create MONOTONIC SIGEV_SIGNAL",
		 k_create(CLOCK_MONOTONIC, &ev, &id));
	reset();
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_OK("timer_settime relative 20 ms", k_settime(id, 0, &its, NULL));
	CHECK(wait_sig(), "the timer's signal arrives");
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 20 * MS, "not before 20 ms");
	CHECK_EQ("signal number", got_sig, SIGUSR1);
	CHECK_EQ("si_code SI_TIMER", got_code, SI_TIMER);
	CHECK_EQ("si_timerid is the id", got_timerid, id);
	CHECK_EQ("si_value", got_value, 4242);
	CHECK_EQ("timer_getoverrun 0", syscall(SYS_timer_getoverrun, id), 0);

	/* One-shot: nothing more; gettime says disarmed. */
	reset();
	sleep_ms(40);
	CHECK_EQ("one-shot fires once", got_sig, 0);
	memset(&its, 0x55, sizeof(its));
	CHECK_OK("timer_gettime", syscall(SYS_timer_gettime, id, &its));
	CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0,
	      "expired one-shot reads 0");
	CHECK_OK("timer_delete", syscall(SYS_timer_delete, id));
	CHECK_ERR("timer_delete twice EINVAL",
		  (errno = 0, syscall(SYS_timer_delete, id)), EINVAL);
}

/* The default sigevent (NULL): SIGALRM with the id as si_value. */
static void test_default_sigevent(void)
{
	struct itimerspec its = its_ns(5 * MS, 0);
	int id = -1;

	CHECK_OK("timer_create with NULL sigevent",
		 k_create(CLOCK_REALTIME, NULL, &id));
	reset();
	CHECK_OK("arm it", k_settime(id, 0, &its, NULL));
	CHECK(wait_sig(), "SIGALRM arrives");
	CHECK_EQ("default signal SIGALRM", got_sig, SIGALRM);
	CHECK_EQ("default si_value is the id", got_value, id);
	syscall(SYS_timer_delete, id);
}

static atomic_int target_tid;
static atomic_int target_done;

static void *target_thread(void *arg)
{
	(void)arg;
	target_tid = (int)syscall(SYS_gettid);
	for (int i = 0; i < 2000 && !got_sig; i++)
		sleep_ms(5);
	target_done = 1;
	return NULL;
}

static void test_thread_id(void)
{
	pthread_t th;
	struct ksigevent ev = {0};
	struct itimerspec its = its_ns(10 * MS, 0);
	int id = -1;

	reset();
	pthread_create(&th, NULL, target_thread, NULL);
	while (!target_tid)
		sleep_ms(1);
	ev.notify = SIGEV_THREAD_ID;
	ev.signo = SIGUSR2;
	ev.tid = target_tid;
	CHECK_OK("timer_create SIGEV_THREAD_ID",
		 k_create(CLOCK_MONOTONIC, &ev, &id));
	CHECK_OK("arm it", k_settime(id, 0, &its, NULL));
	/* This thread stays runnable and does not block SIGUSR2: only the
	 * target makes the handler see the target's tid. */
	while (!got_sig && !target_done)
		;
	pthread_join(th, NULL);
	CHECK_EQ("signal number", got_sig, SIGUSR2);
	CHECK_EQ("the handler ran on the named thread", got_tid, target_tid);
	syscall(SYS_timer_delete, id);
}

static void test_overrun(void)
{
	struct ksigevent ev = {0};
	struct itimerspec its = its_ns(1 * MS, 1 * MS), cur;
	sigset_t set;
	siginfo_t si;
	int id = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ev.notify = SIGEV_SIGNAL;
	ev.signo = SIGRTMIN + 1;
	ev.value.sival_int = 7;
	CHECK_OK("timer_create for overruns",
		 k_create(CLOCK_MONOTONIC, &ev, &id));
	CHECK_OK("arm 1 ms interval", k_settime(id, 0, &its, NULL));
	sleep_ms(60);
	CHECK_OK("timer_gettime of an interval timer",
		 syscall(SYS_timer_gettime, id, &cur));
	CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == MS,
	      "interval reported");
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
		  cur.it_value.tv_nsec <= MS,
	      "armed: time left > 0 and <= 1 ms");
	struct timespec zero = {0, 0};
	memset(&si, 0, sizeof(si));
	int sig = sigtimedwait(&set, &si, &zero);
	CHECK_EQ("one pending signal for many expiries", sig, SIGRTMIN + 1);
	CHECK_EQ("its si_code", si.si_code, SI_TIMER);
	CHECK_EQ("its si_value", si.si_value.sival_int, 7);
	CHECK(si.si_overrun >= 10,
	      "si_overrun counts missed expiries (>= 10 in 60 ms)");
	CHECK_EQ("timer_getoverrun says the same",
		 syscall(SYS_timer_getoverrun, id), si.si_overrun);

	/* Disarm: old value returned, nothing fires afterwards. */
	struct itimerspec off = its_ns(0, 0), old;
	CHECK_OK("disarm", k_settime(id, 0, &off, &old));
	CHECK(old.it_interval.tv_nsec == MS, "old value has the interval");
	sigtimedwait(&set, &si, &zero); /* one may have come before */
	sleep_ms(20);
	CHECK_ERR("disarmed timer sends nothing",
		  (errno = 0, sigtimedwait(&set, &si, &zero)), EAGAIN);
	CHECK_OK("timer_gettime disarmed",
		 syscall(SYS_timer_gettime, id, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	      "disarmed reads 0 left");
	syscall(SYS_timer_delete, id);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void test_absolute(void)
{
	struct ksigevent ev = {0};
	struct itimerspec its;
	int id = -1;

	ev.notify = SIGEV_SIGNAL;
	ev.signo = SIGUSR1;
	CHECK_OK("timer_create for TIMER_ABSTIME",
		 k_create(CLOCK_MONOTONIC, &ev, &id));
	int64_t target = now_ns(CLOCK_MONOTONIC) + 30 * MS;
	its = its_ns(target, 0);
	reset();
	CHECK_OK("arm absolute MONOTONIC",
		 k_settime(id, TIMER_ABSTIME, &its, NULL));
	CHECK(wait_sig(), "absolute timer fires");
	CHECK(now_ns(CLOCK_MONOTONIC) >= target,
	      "not before the absolute time");
	syscall(SYS_timer_delete, id);

	CHECK_OK("timer_create REALTIME", k_create(CLOCK_REALTIME, &ev, &id));
	its = its_ns(now_ns(CLOCK_REALTIME) - 1000 * MS, 0);
	reset();
	CHECK_OK("arm absolute REALTIME in the past",
		 k_settime(id, TIMER_ABSTIME, &its, NULL));
	CHECK(wait_sig(), "a past absolute time fires at once");
	syscall(SYS_timer_delete, id);
}

static void test_sigev_none(void)
{
	struct ksigevent ev = {0};
	struct itimerspec its = its_ns(10000 * MS, 500 * MS), cur, old;
	int id = -1;

	ev.notify = SIGEV_NONE;
	CHECK_OK("timer_create SIGEV_NONE BOOTTIME",
		 k_create(CLOCK_BOOTTIME, &ev, &id));
	CHECK_OK("arm 10 s", k_settime(id, 0, &its, NULL));
	CHECK_OK("timer_gettime", syscall(SYS_timer_gettime, id, &cur));
	CHECK((cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0) &&
		  cur.it_value.tv_sec <= 10,
	      "time left in (0, 10 s]");
	CHECK(cur.it_interval.tv_sec == 0 &&
		  cur.it_interval.tv_nsec == 500 * MS,
	      "interval 500 ms");
	its = its_ns(5 * MS, 0);
	CHECK_OK("re-arm returns the old value", k_settime(id, 0, &its, &old));
	CHECK(old.it_value.tv_sec >= 5 && old.it_value.tv_sec <= 10,
	      "old value about 10 s left");
	reset();
	sleep_ms(30);
	CHECK_EQ("SIGEV_NONE sends no signal", got_sig, 0);
	syscall(SYS_timer_gettime, id, &cur);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	      "expired SIGEV_NONE reads 0");
	syscall(SYS_timer_delete, id);

	CHECK_OK("timer_create PROCESS_CPUTIME_ID",
		 k_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &id));
	syscall(SYS_timer_delete, id);
}

static void *exit_with_pending(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	return NULL;
}

/* What musl's SIGEV_THREAD helper relies on when it exits with its
 * SIGTIMER still pending: a signal sent to one thread dies with it. */
static void test_private_pending(void)
{
	pthread_t th;

	reset();
	pthread_create(&th, NULL, exit_with_pending, NULL);
	pthread_join(th, NULL);
	sleep_ms(20);
	CHECK(got_sig == 0, "a thread's own pending signal dies with it");
}

static atomic_int thread_fired;
static union sigval thread_value;

static void on_thread_timer(union sigval v)
{
	thread_value = v;
	thread_fired = 1;
}

/* libc's SIGEV_THREAD: a helper thread targeted with SIGEV_THREAD_ID. */
static void test_sigev_thread(void)
{
	struct sigevent sev;
	struct itimerspec its = its_ns(10 * MS, 0);
	timer_t t;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_thread_timer;
	sev.sigev_value.sival_int = 99;
	CHECK_OK("libc timer_create SIGEV_THREAD",
		 timer_create(CLOCK_MONOTONIC, &sev, &t));
	CHECK_OK("libc timer_settime", timer_settime(t, 0, &its, NULL));
	for (int i = 0; i < 2000 && !thread_fired; i++)
		sleep_ms(5);
	CHECK(thread_fired, "SIGEV_THREAD function runs");
	CHECK_EQ("with its value", thread_value.sival_int, 99);
	CHECK_OK("libc timer_delete", timer_delete(t));
}

static void test_errors(void)
{
	struct ksigevent ev = {0};
	struct itimerspec its = its_ns(MS, 0);
	int id = -1;

	CHECK_ERR("settime on an unknown id EINVAL",
		  (errno = 0, k_settime(4000, 0, &its, NULL)), EINVAL);
	CHECK_ERR("gettime on an unknown id EINVAL",
		  (errno = 0, syscall(SYS_timer_gettime, -1, &its)), EINVAL);
	CHECK_ERR("getoverrun on an unknown id EINVAL",
		  (errno = 0, syscall(SYS_timer_getoverrun, 4000)), EINVAL);
	CHECK_ERR("delete an unknown id EINVAL",
		  (errno = 0, syscall(SYS_timer_delete, 4000)), EINVAL);
	CHECK_ERR("unknown clock EINVAL", (errno = 0, k_create(77, NULL, &id)),
		  EINVAL);
	ev.notify = 77;
	ev.signo = SIGUSR1;
	CHECK_ERR("unknown sigev_notify EINVAL",
		  (errno = 0, k_create(CLOCK_MONOTONIC, &ev, &id)), EINVAL);
	ev.notify = SIGEV_SIGNAL;
	ev.signo = 0;
	CHECK_ERR("signal 0 EINVAL",
		  (errno = 0, k_create(CLOCK_MONOTONIC, &ev, &id)), EINVAL);
	ev.signo = 65;
	CHECK_ERR("signal 65 EINVAL",
		  (errno = 0, k_create(CLOCK_MONOTONIC, &ev, &id)), EINVAL);
	ev.notify = SIGEV_THREAD_ID;
	ev.signo = SIGUSR1;
	ev.tid = 999999;
	CHECK_ERR("SIGEV_THREAD_ID to no thread EINVAL",
		  (errno = 0, k_create(CLOCK_MONOTONIC, &ev, &id)), EINVAL);
	CHECK_ERR("bad sigevent pointer EFAULT",
		  (errno = 0, k_create(CLOCK_MONOTONIC, BAD, &id)), EFAULT);
	CHECK_ERR("bad timer id pointer EFAULT",
		  (errno = 0, k_create(CLOCK_MONOTONIC, NULL, BAD)), EFAULT);

	ev.notify = SIGEV_NONE;
	CHECK_OK("a timer for settime errors",
		 k_create(CLOCK_MONOTONIC, &ev, &id));
	its.it_value.tv_nsec = 1000000000;
	CHECK_ERR("tv_nsec 1e9 EINVAL",
		  (errno = 0, k_settime(id, 0, &its, NULL)), EINVAL);
	its = its_ns(MS, 0);
	its.it_interval.tv_sec = -1;
	CHECK_ERR("negative interval EINVAL",
		  (errno = 0, k_settime(id, 0, &its, NULL)), EINVAL);
	CHECK_ERR("bad new value pointer EFAULT",
		  (errno = 0, k_settime(id, 0, BAD, NULL)), EFAULT);
	CHECK_ERR("bad gettime pointer EFAULT",
		  (errno = 0, syscall(SYS_timer_gettime, id, BAD)), EFAULT);
	syscall(SYS_timer_delete, id);
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	test_signal_timer();
	test_default_sigevent();
	test_thread_id();
	test_overrun();
	test_absolute();
	test_sigev_none();
	test_sigev_thread();
	test_private_pending();
	test_errors();
	return tap_done("ptimers");
}
