/*
 * Signals as the rest of the kernel raises them (kernel/sys/signal.c).
 * Named ksignal.h so that no <signal.h> lookup can ever find it.
 *
 * Blocking syscalls interrupted by a signal (wait_until returned -EINTR)
 * return one of Linux's restart codes instead of -EINTR; the way back to
 * user mode turns it into -EINTR or a restart of the call, depending on
 * whether a handler runs and its SA_RESTART flag.  These never reach the
 * program.
 */
#ifndef KSIGNAL_H
#define KSIGNAL_H

#include "kernel.h"

/* Restarted unless a handler without SA_RESTART runs (read, write,
 * accept, futex wait without timeout...). */
#define ERESTARTSYS 512
/* Always restarted (nothing the program could see happened yet). */
#define ERESTARTNOINTR 513
/* -EINTR if a handler runs, else restarted (poll, select, epoll_wait,
 * sigsuspend, pause). */
#define ERESTARTNOHAND 514
/* Like ERESTARTNOHAND; Linux would restart with the time left, kiln
 * restarts with the same arguments (nanosleep, futex wait with timeout). */
#define ERESTART_RESTARTBLOCK 516

/* Signal numbers used by the kernel itself (x86-64 Linux). */
#define KSIGILL	 4
#define KSIGTRAP 5
#define KSIGBUS	 7
#define KSIGFPE	 8
#define KSIGKILL 9
#define KSIGSEGV 11
#define KSIGPIPE 13
#define KSIGALRM 14
#define KSIGTERM 15
#define KSIGSTOP 19

struct task;
struct ksiginfo;

/* Sends sig to the process (kill): one thread that does not block it
 * takes it.  info may be NULL (SI_KERNEL). */
void signal_send_process(int sig, const struct ksiginfo *info);
/* Sends sig to thread t (tgkill, SIGPIPE, faults). */
void signal_send_thread(struct task *t, int sig, const struct ksiginfo *info);

/* A fault in user mode that Linux turns into signal sig (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP) with si_code code and si_addr addr.
 * Returns true when the program has a handler that will run on the way
 * back to user mode; false when the signal would kill it (no handler,
 * ignored or blocked: the caller reports the fault and exits). */
bool signal_fault(int sig, int code, uint64_t addr, uint64_t trapno,
		  uint64_t err);

/* A write to a pipe or socket without a reader: SIGPIPE to the caller. */
void signal_raise_pipe(void);

/* Sets the calling thread's blocked set for the rest of one syscall
 * (ppoll, pselect6, epoll_pwait, sigsuspend); the old set comes back on
 * the way to user mode, or through sigreturn when a handler runs. */
void signal_set_temp_mask(uint64_t mask);

/* Whether timer id's signal sig is pending anywhere (drop: discards
 * it).  ptimer.c counts an expiry while it is as an overrun. */
bool signal_timer_pending(int sig, int id, bool drop);
/* The signals pending for thread t: its own and the process's. */
uint64_t signal_pending_set(const struct task *t);
/* Takes the calling thread's next pending signal among allowed (its own
 * first, then the process's) as delivery would: 0 when none. */
int signal_take(uint64_t allowed, struct ksiginfo *info);

/* POSIX timers (ptimer.c): fires the due ones and returns the next
 * expiry (monotonic ns, UINT64_MAX: none); called from the process timer
 * queue (signal_timers_run). */
uint64_t ptimer_run(uint64_t now);
/* Fills a timer signal's si_overrun as it is taken. */
void ptimer_collect(struct ksiginfo *info);

/* signalfd.c: tells the signalfds watching sig that it became pending. */
void signalfd_notify(int sig);

/* Ends the program as signal sig would (status 128 + sig), with the
 * usual one-line message. */
noreturn void signal_terminate(int sig);

#endif
