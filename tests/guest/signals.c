/*
 * Signal delivery: handlers with SA_SIGINFO and their siginfo, the
 * registers and FPU state intact after a handler interrupted an FP loop
 * asynchronously, edits to the ucontext honoured by sigreturn (Go's
 * preemption does that), faults handled by the program (SIGSEGV fixed up
 * with mprotect or left with siglongjmp, SIGFPE, SIGILL), SIGPIPE
 * ignored or caught, masks and pending signals, tgkill to another thread,
 * the alternate signal stack, interval timers, interrupted sleeps and
 * reads (EINTR, or a restart with SA_RESTART), sigsuspend, sigtimedwait,
 * SA_RESETHAND and SA_NODEFER.  Default actions that end the program are
 * in sigdefault.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "tap.h"

/* The SSE rounding mode (MXCSR.RC), read and set directly: what the
 * kernel must save and restore, and no libm needed. */
#define ROUND_NEAREST 0x0000
#define ROUND_DOWN    0x2000
#define ROUND_UP      0x4000

static unsigned get_round(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m & 0x6000;
}

static void set_round(unsigned rc)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	m = (m & ~0x6000u) | rc;
	__asm__ volatile("ldmxcsr %0" ::"m"(m));
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void set_timer_ms(int ms, int interval_ms)
{
	struct itimerval it = {{interval_ms / 1000, interval_ms % 1000 * 1000},
			       {ms / 1000, ms % 1000 * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- basic delivery ---- */

static volatile sig_atomic_t hits;
static siginfo_t last_info;
static volatile int handler_round; /* get_round() inside the handler */

static void record(int sig, siginfo_t *si, void *uc)
{
	hits++;
	last_info = *si;
	handler_round = get_round();
}

static void test_basic(void)
{
	on(SIGUSR1, record, 0);
	hits = 0;
	set_round(ROUND_UP);
	raise(SIGUSR1);
	int round_after = get_round();
	set_round(ROUND_NEAREST);
	CHECK_EQ("raise runs the handler before returning", hits, 1);
	CHECK_EQ("si_signo", last_info.si_signo, SIGUSR1);
	CHECK_EQ("si_code is SI_TKILL for raise", last_info.si_code, SI_TKILL);
	CHECK_EQ("si_pid is the sender", last_info.si_pid, getpid());
	CHECK_EQ("the handler starts with the default rounding mode",
		 handler_round, ROUND_NEAREST);
	CHECK_EQ("the program's rounding mode is back after it", round_after,
		 ROUND_UP);

	on(SIGUSR2, record, 0);
	kill(getpid(), SIGUSR2);
	CHECK_EQ("kill to self runs the handler", hits, 2);
	CHECK_EQ("si_code is SI_USER for kill", last_info.si_code, SI_USER);

	errno = 0;
	CHECK_ERR("kill with signal 65 is EINVAL", kill(getpid(), 65), EINVAL);
	errno = 0;
	CHECK_ERR("sigaction on SIGKILL is EINVAL",
		  sigaction(SIGKILL, &(struct sigaction){0}, NULL), EINVAL);
	CHECK_EQ("kill with signal 0 checks only", kill(getpid(), 0), 0);
	signal(SIGURG, SIG_DFL);
	raise(SIGURG);
	CHECK(1, "SIGURG's default action is to ignore it");
}

/* ---- registers and FPU across an asynchronous handler ---- */

static volatile sig_atomic_t fp_hits;

static void clobber_fpu(int sig, siginfo_t *si, void *uc)
{
	volatile double x = 3.0;
	for (int i = 0; i < 100; i++)
		x = x * 1.7 - 0.3;
	set_round(ROUND_DOWN);
	fp_hits++;
}

static pid_t main_tid;
static volatile int fp_loop_done;

static void *fp_pester(void *arg)
{
	while (!fp_loop_done) {
		syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
		usleep(2000);
	}
	return NULL;
}

static double fp_step(double acc)
{
	return acc * 1.0000001 + 0.5;
}

static void test_fpu(void)
{
	pthread_t t;
	double acc = 1.0;
	long iters = 0;

	on(SIGUSR1, clobber_fpu, 0);
	fp_hits = 0;
	main_tid = gettid_();
	pthread_create(&t, NULL, fp_pester, NULL);
	while (fp_hits < 10 && iters < 4000000000L) {
		acc = fp_step(acc);
		iters++;
	}
	fp_loop_done = 1;
	pthread_join(t, NULL);
	double ref = 1.0;
	for (long i = 0; i < iters; i++)
		ref = fp_step(ref);
	CHECK(fp_hits >= 10, "10 signals interrupted an FP loop");
	CHECK(memcmp(&acc, &ref, sizeof(acc)) == 0,
	      "... whose result is bit-exact (FPU state restored)");
	CHECK_EQ("... and the rounding mode survived", get_round(),
		 ROUND_NEAREST);
}

/* ---- sigreturn honours edits to the ucontext ---- */

static void skip_ud2(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	hits++;
	last_info = *si;
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* past the ud2 */
	uc->uc_mcontext.gregs[REG_RAX] = 1234;
}

static void test_context_edit(void)
{
	long v;

	on(SIGILL, skip_ud2, 0);
	hits = 0;
	__asm__ volatile("xor %%eax, %%eax\n\tud2" : "=a"(v)::"memory");
	CHECK_EQ("SIGILL handler ran for ud2", hits, 1);
	CHECK_EQ("... with ILL_ILLOPN", last_info.si_code, ILL_ILLOPN);
	CHECK_EQ("rip and rax edited in the ucontext took effect", v, 1234);
	signal(SIGILL, SIG_DFL);
}

/* ---- faults handled by the program ---- */

static char *guard;
static void *fault_addr;
static int fault_code;

static void fix_guard(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	mprotect(guard, 4096, PROT_READ | PROT_WRITE);
}

static sigjmp_buf escape;

static void jump_out(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(escape, sig);
}

static volatile int zero, seven = 7;
/* An unmapped address the compiler cannot see through. */
static volatile uintptr_t bad_address = 0x10;

static void test_faults(void)
{
	guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	on(SIGSEGV, fix_guard, 0);
	guard[100] = 'k';
	CHECK_EQ("SIGSEGV handler fixed the page with mprotect", guard[100],
		 'k');
	CHECK(fault_addr == guard + 100, "... si_addr is the faulting byte");
	CHECK_EQ("... si_code SEGV_ACCERR", fault_code, SEGV_ACCERR);
	munmap(guard, 4096);

	on(SIGSEGV, jump_out, 0);
	int sig = sigsetjmp(escape, 1);
	if (sig == 0)
		*(volatile int *)bad_address = 1;
	CHECK_EQ("siglongjmp out of a SIGSEGV handler", sig, SIGSEGV);
	CHECK(fault_addr == (void *)0x10, "... si_addr 0x10");
	CHECK_EQ("... si_code SEGV_MAPERR", fault_code, SEGV_MAPERR);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGSEGV),
	      "... and siglongjmp restored the mask");

	on(SIGFPE, jump_out, 0);
	sig = sigsetjmp(escape, 1);
	if (sig == 0)
		zero = seven / zero;
	CHECK_EQ("integer division by zero: SIGFPE handler", sig, SIGFPE);
	CHECK_EQ("... si_code FPE_INTDIV", fault_code, FPE_INTDIV);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
}

/* ---- SIGPIPE ---- */

static void test_sigpipe(void)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	pipe(fds);
	close(fds[0]);
	errno = 0;
	CHECK_ERR("SIGPIPE ignored: write to a reader-less pipe is EPIPE",
		  write(fds[1], "x", 1), EPIPE);
	on(SIGPIPE, record, 0);
	hits = 0;
	errno = 0;
	CHECK_ERR("SIGPIPE caught: write is EPIPE", write(fds[1], "x", 1),
		  EPIPE);
	CHECK_EQ("... and the handler ran", hits, 1);
	CHECK_EQ("... for SIGPIPE", last_info.si_signo, SIGPIPE);
	close(fds[1]);
	signal(SIGPIPE, SIG_DFL);
}

/* ---- masks, pending, sigsuspend, sigtimedwait ---- */

static void *send_usr1_later(void *arg)
{
	usleep(20000);
	kill(getpid(), SIGUSR1);
	return NULL;
}

static void *sigwait_usr2(void *arg)
{
	sigset_t w;
	int sig = 0;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR2);
	sigwait(&w, &sig);
	return (void *)(intptr_t)sig;
}

static void test_masks(void)
{
	sigset_t set, old, pend;

	on(SIGUSR1, record, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR1);
	CHECK_EQ("a blocked signal is not delivered", hits, 0);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1), "... it is pending");
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK_EQ("unblocking delivers it before sigprocmask returns", hits, 1);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR1), "... and it is no longer pending");

	/* sigsuspend with SIGUSR1 blocked outside it. */
	sigprocmask(SIG_BLOCK, &set, &old);
	hits = 0;
	pthread_t t;
	pthread_create(&t, NULL, send_usr1_later, NULL);
	sigset_t none;
	sigemptyset(&none);
	errno = 0;
	CHECK_ERR("sigsuspend returns EINTR after the handler",
		  sigsuspend(&none), EINTR);
	CHECK_EQ("... which ran once", hits, 1);
	sigprocmask(SIG_BLOCK, NULL, &pend);
	CHECK(sigismember(&pend, SIGUSR1), "... and the old mask is back");
	pthread_join(t, NULL);

	/* sigtimedwait takes a blocked signal without a handler. */
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR2);
	sigprocmask(SIG_BLOCK, &w, NULL);
	raise(SIGUSR2);
	siginfo_t si;
	struct timespec ts = {1, 0};
	hits = 0;
	CHECK_EQ("sigtimedwait takes the pending SIGUSR2",
		 sigtimedwait(&w, &si, &ts), SIGUSR2);
	/* (si_code: glibc turns SI_TKILL into SI_USER here, musl does not) */
	CHECK_EQ("... with its siginfo", si.si_signo, SIGUSR2);
	CHECK_EQ("... and no handler ran", hits, 0);
	ts.tv_sec = 0;
	ts.tv_nsec = 10000000;
	errno = 0;
	CHECK_ERR("sigtimedwait with nothing pending times out: EAGAIN",
		  sigtimedwait(&w, &si, &ts), EAGAIN);

	/* sigwait in one thread takes a signal another thread sends while
	 * every thread blocks it. */
	pthread_t waiter;
	pthread_create(&waiter, NULL, sigwait_usr2, NULL);
	usleep(20000);
	kill(getpid(), SIGUSR2);
	void *got;
	pthread_join(waiter, &got);
	CHECK_EQ("sigwait in another thread takes a process SIGUSR2",
		 (intptr_t)got, SIGUSR2);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigprocmask(SIG_UNBLOCK, &w, NULL);
}

/* ---- tgkill to another thread ---- */

static volatile pid_t handled_on;

static void note_tid(int sig, siginfo_t *si, void *uc)
{
	handled_on = gettid_();
}

static volatile pid_t target_tid;

static void *wait_for_signal(void *arg)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	target_tid = gettid_();
	while (!handled_on)
		pause();
	return NULL;
}

static void test_tgkill(void)
{
	pthread_t t;
	sigset_t set, old;

	/* The main thread blocks SIGUSR2 (the target unblocks it), so a
	 * handler on the wrong thread could not even run. */
	on(SIGUSR2, note_tid, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	pthread_create(&t, NULL, wait_for_signal, NULL);
	while (!target_tid)
		usleep(1000);
	usleep(10000);
	CHECK_EQ("tgkill to a thread blocked in pause",
		 syscall(SYS_tgkill, getpid(), target_tid, SIGUSR2), 0);
	pthread_join(t, NULL);
	CHECK_EQ("... runs the handler on that thread", handled_on, target_tid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- sigaltstack ---- */

static char *alt;
static volatile int on_alt, alt_flags;

static void check_alt(int sig, siginfo_t *si, void *uc)
{
	char here;
	stack_t cur;
	on_alt = &here >= alt && &here < alt + 65536;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
}

static void test_altstack(void)
{
	stack_t ss = {0}, cur;

	alt = malloc(65536);
	ss.ss_sp = alt;
	ss.ss_size = 65536;
	CHECK_OK("sigaltstack", sigaltstack(&ss, NULL));
	on(SIGUSR1, check_alt, SA_ONSTACK);
	raise(SIGUSR1);
	CHECK(on_alt, "an SA_ONSTACK handler runs on the alternate stack");
	CHECK_EQ("... where sigaltstack says SS_ONSTACK", alt_flags,
		 SS_ONSTACK);
	sigaltstack(NULL, &cur);
	CHECK_EQ("back on the normal stack: flags 0", cur.ss_flags, 0);
	on(SIGUSR1, check_alt, 0);
	raise(SIGUSR1);
	CHECK(!on_alt, "without SA_ONSTACK it runs on the normal stack");
	ss.ss_size = 100;
	errno = 0;
	CHECK_ERR("a 100-byte alternate stack is ENOMEM", sigaltstack(&ss, 0),
		  ENOMEM);
	ss.ss_flags = SS_DISABLE;
	CHECK_OK("SS_DISABLE", sigaltstack(&ss, NULL));
	sigaltstack(NULL, &cur);
	CHECK_EQ("... reports SS_DISABLE", cur.ss_flags, SS_DISABLE);
	free(alt);
}

/* ---- timers, interrupted calls ---- */

static int rfds[2];

static void *write_later(void *arg)
{
	usleep(150000);
	write(rfds[1], "late", 4);
	return NULL;
}

static void test_timers(void)
{
	on(SIGALRM, record, 0);
	hits = 0;
	set_timer_ms(30, 0);
	pause();
	CHECK_EQ("setitimer's SIGALRM ends pause()", hits, 1);
	CHECK_EQ("... as SIGALRM", last_info.si_signo, SIGALRM);

	hits = 0;
	set_timer_ms(10, 10);
	while (hits < 3)
		pause();
	set_timer_ms(0, 0);
	CHECK_EQ("an interval timer fires again and again", hits, 3);
	struct itimerval it;
	getitimer(ITIMER_REAL, &it);
	CHECK(it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0,
	      "... until disarmed");

	CHECK_EQ("alarm(100) with none set returns 0", alarm(100), 0);
	unsigned left = alarm(0);
	CHECK(left == 100 || left == 99, "alarm(0) returns the seconds left");

	/* nanosleep cut short. */
	hits = 0;
	set_timer_ms(30, 0);
	struct timespec req = {5, 0}, rem = {0, 0};
	errno = 0;
	CHECK_ERR("SIGALRM interrupts a 5 s nanosleep: EINTR",
		  nanosleep(&req, &rem), EINTR);
	CHECK(rem.tv_sec >= 3 && rem.tv_sec <= 5, "... with the time left");

	/* read() interrupted: EINTR without SA_RESTART... */
	pipe(rfds);
	char buf[8];
	set_timer_ms(30, 0);
	errno = 0;
	CHECK_ERR("SIGALRM interrupts a blocked read: EINTR",
		  read(rfds[0], buf, sizeof(buf)), EINTR);

	/* ... restarted with it. */
	on(SIGALRM, record, SA_RESTART);
	hits = 0;
	pthread_t t;
	pthread_create(&t, NULL, write_later, NULL);
	set_timer_ms(30, 0);
	ssize_t n = read(rfds[0], buf, sizeof(buf));
	CHECK_EQ("with SA_RESTART the read goes on and gets the data", n, 4);
	CHECK_EQ("... after the handler ran", hits, 1);
	pthread_join(t, NULL);

	/* poll and epoll_wait are never restarted (Linux's rule). */
	struct pollfd pfd = {.fd = rfds[0], .events = POLLIN};
	set_timer_ms(30, 0);
	errno = 0;
	CHECK_ERR("poll interrupted even with SA_RESTART: EINTR",
		  poll(&pfd, 1, 5000), EINTR);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, rfds[0], &ev);
	set_timer_ms(30, 0);
	errno = 0;
	CHECK_ERR("epoll_wait interrupted even with SA_RESTART: EINTR",
		  epoll_wait(ep, &out, 1, 5000), EINTR);
	close(ep);

	/* ppoll's mask lets a blocked signal in for the call only. */
	sigset_t usr1, none, cur;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	on(SIGUSR1, record, 0);
	hits = 0;
	pthread_create(&t, NULL, send_usr1_later, NULL);
	struct timespec five = {5, 0};
	errno = 0;
	CHECK_ERR("ppoll with an empty mask: a blocked SIGUSR1 gets in, EINTR",
		  ppoll(&pfd, 1, &five, &none), EINTR);
	CHECK_EQ("... its handler ran", hits, 1);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(sigismember(&cur, SIGUSR1), "... and SIGUSR1 is blocked again");
	pthread_join(t, NULL);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	close(rfds[0]);
	close(rfds[1]);
	signal(SIGALRM, SIG_DFL);
}

/* ---- SA_RESETHAND, SA_NODEFER ---- */

static volatile int self_blocked;

static void check_mask(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	self_blocked = sigismember(&cur, sig);
}

static void test_flags(void)
{
	struct sigaction sa;

	on(SIGUSR1, check_mask, 0);
	raise(SIGUSR1);
	CHECK_EQ("a handler runs with its own signal blocked", self_blocked, 1);
	on(SIGUSR1, check_mask, SA_NODEFER);
	raise(SIGUSR1);
	CHECK_EQ("... but not with SA_NODEFER", self_blocked, 0);

	on(SIGUSR1, record, SA_RESETHAND);
	hits = 0;
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &sa);
	CHECK_EQ("SA_RESETHAND: the handler ran once", hits, 1);
	CHECK(sa.sa_handler == SIG_DFL, "... and the disposition is SIG_DFL");
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	CHECK(1, "SIG_IGN: raise(SIGUSR1) does nothing");
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	test_basic();
	test_fpu();
	test_context_edit();
	test_faults();
	test_sigpipe();
	test_masks();
	test_tgkill();
	test_altstack();
	test_timers();
	test_flags();
	return tap_done("signals");
}
