/*
 * Threads and the scheduler (kernel/sched/sched.c).
 *
 * One process, one CPU, many threads.  A thread (struct task) is a kernel
 * stack with the program's registers in a trapframe at its top, the FS
 * base and FPU state (struct arch_thread), and the per-thread parts of the
 * Linux ABI: tid, the clear-child-tid address, the robust futex list, the
 * signal mask, pending signals and the alternate signal stack.  Everything
 * else (memory, descriptors, signal dispositions) belongs to the process
 * and is shared, as with CLONE_VM|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD.
 *
 * The kernel is not preemptible: a thread in the kernel runs until it
 * blocks (wait_until) or returns to user mode.  Threads in user mode are
 * preempted by the local APIC timer when their time slice ends and
 * another thread is runnable.  Docs: docs/kernel.md, "Threads".
 */
#ifndef SCHED_H
#define SCHED_H

#include "arch.h"
#include "kernel.h"

enum task_state {
	TASK_RUNNABLE, /* running, or on the run queue */
	TASK_WAITING,  /* in wait_until, on the waiter list */
	TASK_DEAD,     /* exited; freed after the next switch */
};

/* One pending signal's details (siginfo fields at offsets 0-31). */
struct ksiginfo {
	int32_t signo, err, code, pad;
	uint64_t a; /* offset 16: si_pid|si_uid, si_addr, si_tid|overrun */
	uint64_t b; /* offset 24: si_value */
};

struct task {
	struct arch_thread arch; /* first: 16-byte aligned FPU image */
	int tid;
	enum task_state state;
	void *kstack;	      /* its memory block (sched.c); NULL: boot stack */
	struct trapframe *tf; /* the user registers, top of kstack */
	uint64_t slice_end;   /* monotonic ns when its time slice ends */

	/* wait_until's state while TASK_WAITING. */
	bool (*wait_ready)(void *arg);
	void *wait_arg;
	uint64_t wait_deadline;
	int wait_result; /* 0, -ETIMEDOUT or -EINTR once woken */
	bool wait_intr;	 /* a pending signal ends the wait */

	/* The Linux thread ABI. */
	uint64_t clear_child_tid; /* set_tid_address, CLONE_CHILD_CLEARTID */
	uint64_t robust_list;	  /* set_robust_list head, 0: none */
	int exit_status;

	/* Signals (kernel/sys/signal.c). */
	uint64_t sig_blocked;
	uint64_t sig_pending;
	uint64_t sig_private;	 /* of sig_pending: sent to this thread alone */
	uint64_t sig_saved_mask; /* to restore after sigsuspend/ppoll */
	bool sig_restore_mask;	 /* sig_saved_mask is set */
	struct ksiginfo sig_info[64];
	uint64_t ss_sp, ss_size; /* sigaltstack; ss_size 0: disabled */
	int ss_flags;		 /* SS_AUTODISARM */
	/* prctl(PR_SET_NAME); empty: the program's file name (proc.c). */
	char comm[16];
	/* The last fault's details, for the signal frame's sigcontext. */
	uint64_t fault_trapno, fault_err, fault_addr;

	struct task *rq_next;  /* run queue or waiter list */
	struct task *all_next; /* every live thread */
};

/* The thread running on the CPU. */
extern struct task *current;

/* Boot: makes the boot context thread 1 (the program's main thread). */
void sched_init(void);

/* A new runnable thread whose user registers are a copy of *tf (the
 * caller adjusts the copy through the returned task's tf before it first
 * runs; it runs no earlier than the caller's next block or preemption).
 * FPU state and signal mask are the current thread's.  NULL when out of
 * memory. */
struct task *sched_spawn(const struct trapframe *tf);

/* The live thread with this tid, or NULL. */
struct task *sched_find(int tid);
/* Iteration over live threads: sched_first(), then t->all_next. */
struct task *sched_first(void);
int sched_nr_threads(void);

/* Ends the calling thread (its clear-child-tid and robust list are the
 * caller's business); the last thread's exit ends the program with the
 * main thread's status. */
noreturn void sched_exit(int status);

/* Gives the CPU to the next runnable thread, if any (sched_yield). */
void sched_yield(void);

/* Blocks the current thread until ready(arg), the deadline, or (with
 * intr) a signal: the body of wait_until, which documents it. */
int sched_block(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns,
		bool intr);

/* Ends t's wait at once with result (futex wakes use this instead of
 * waiting for their condition to be polled).  No effect unless waiting. */
void sched_wake(struct task *t, int result);

/* Something a waiter may be waiting for happened (a file's readiness, a
 * signal, an interrupt): the waiters' conditions are checked again at the
 * next scheduling point. */
void sched_kick(void);

/* The APIC timer interrupt: whatever was armed has fired. */
void sched_timer_fired(void);

/* The timer's wake-up time for a process-wide timer (alarm) changed:
 * re-arm before returning to user mode. */
void sched_timer_changed(void);

/* Last thing before any return to user mode (syscall, interrupt or
 * exception taken there): preemption, then signal delivery into tf, then
 * the APIC timer.  from_irq: tf was interrupted asynchronously. */
void sched_return_to_user(struct trapframe *tf, bool from_irq);

/* Called by arch_thread_entry on a new thread's first switch-in. */
void sched_thread_start(struct trapframe *tf);

/* kernel/sys/signal.c: hooks the scheduler calls. */
/* True when t has a signal that would interrupt a wait: pending (thread
 * or process), not blocked. */
bool signal_pending(const struct task *t);
/* Delivers pending unblocked signals on the way to user mode: builds
 * handler frames in tf, applies default actions, restarts or fails an
 * interrupted syscall. */
void signal_deliver(struct trapframe *tf);
/* Process timers (alarm/setitimer): fires the due ones; returns the next
 * expiry (monotonic ns), UINT64_MAX for none. */
uint64_t signal_timers_run(uint64_t now);
/* A dying thread's pending signals go back to the process. */
void signal_thread_exit(struct task *t);

/* kernel/sys/futex.c: wakes up to n threads waiting on the futex word at
 * uaddr (thread exit's clear-child-tid wake, robust futexes). */
int futex_wake(uint64_t uaddr, int n);

#endif
