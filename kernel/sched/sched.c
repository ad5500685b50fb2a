/*
 * The scheduler: threads of the one process on the one CPU.
 *
 * Runnable threads wait in one FIFO run queue; the running thread keeps
 * the CPU until it blocks, yields, exits, or is preempted on its way back
 * to user mode because its time slice (SCHED_SLICE_NS) is over and another
 * thread is runnable.  The kernel itself is never preempted: interrupts
 * are off in kernel code except while the CPU halts, so a thread switch
 * happens only inside schedule(), called from a blocking wait, a yield,
 * an exit, or sched_return_to_user.
 *
 * Blocking keeps the shape wait_until always had: a waiter is a condition
 * (ready, arg) with a deadline, not an entry on a wait queue.  Blocked
 * threads sit on the waiter list and their conditions are re-checked, by
 * whichever thread runs the scheduler, when something may have changed:
 * sched_kick() (a file's readiness, a signal, a futex wake), an
 * interrupt, or a deadline reached.  A check that succeeds makes the
 * waiter runnable with its result decided; ready() is never called again
 * for that wait, so conditions with side effects (epoll's harvest) stay
 * correct.  Futexes wake their waiters directly (sched_wake).
 *
 * When nothing is runnable the CPU halts in the scheduler, on the stack of
 * the thread that blocked last, with the APIC one-shot timer armed for the
 * earliest of: a waiter's deadline, a poller's (lwIP's timers), a process
 * timer (alarm), at most WAIT_MAX_SLEEP_NS away.  One timer serves all of
 * that plus the time slice; it is reprogrammed only when the wanted time
 * moves earlier than what is armed (each write is a VM exit).
 */
#include "sched.h"

#include "ksignal.h"
#include "mm.h"
#include "proc.h"
#include "stop.h"
#include "vm.h"
#include "wait.h"
#include "x86.h"

struct task *current;

static struct task boot_task;
static struct task *rq_head, *rq_tail;
static struct task *waiters;
static struct task *all_tasks;
static int nr_tasks;
static int next_tid = 2;
static bool main_exited;
static int main_status;

/* Waiters need a look: set by sched_kick, interrupts, halts. */
static bool kicked;
/* Earliest deadline on the waiter list (may be stale-early). */
static uint64_t waiters_due = UINT64_MAX;
/* Next process timer expiry (signal_timers_run). */
static uint64_t timers_due = UINT64_MAX;
/* The APIC timer: when it fires (0: not armed), and whether the wanted
 * time may have moved earlier. */
static uint64_t timer_armed;
static bool timer_dirty;
/* A thread that exited; its stack is freed once off it. */
static struct task *dead_task;

extern char boot_stack_top[];

void sched_init(void)
{
	boot_task.tid = 1;
	boot_task.state = TASK_RUNNABLE;
	boot_task.tf = (struct trapframe *)((uint64_t)boot_stack_top -
					    sizeof(struct trapframe));
	arch_thread_init_boot(&boot_task.arch, (uint64_t)boot_stack_top);
	current = &boot_task;
	all_tasks = &boot_task;
	nr_tasks = 1;
}

static void rq_push(struct task *t)
{
	t->rq_next = NULL;
	if (rq_tail)
		rq_tail->rq_next = t;
	else
		rq_head = t;
	rq_tail = t;
	timer_dirty = true; /* a time slice may now matter */
}

static struct task *rq_pop(void)
{
	struct task *t = rq_head;
	if (t) {
		rq_head = t->rq_next;
		if (!rq_head)
			rq_tail = NULL;
		t->rq_next = NULL;
	}
	return t;
}

/* A thread's memory is one vmalloc block: its kernel stack, then its
 * struct task in the last page (an overflowing stack runs into the guard
 * page below the block, not into the task).  Blocks of exited threads
 * are kept for reuse: the vmalloc area never reuses addresses, so a
 * program that keeps creating threads would otherwise use up page-table
 * pages. */
#define TASK_BLOCK_PAGES (KERNEL_STACK_SIZE / PAGE_SIZE + 1)
#define TASK_CACHE_MAX	 32
_Static_assert(sizeof(struct task) <= PAGE_SIZE, "struct task fits a page");

static void *task_cache[TASK_CACHE_MAX];
static int task_cached;

struct task *sched_spawn(const struct trapframe *tf)
{
	void *block =
	    task_cached ? task_cache[--task_cached] : vmalloc(TASK_BLOCK_PAGES);
	if (!block)
		return NULL;
	struct task *t = (struct task *)((char *)block + KERNEL_STACK_SIZE);
	memset(t, 0, sizeof(*t));
	t->kstack = block;
	uint64_t top = (uint64_t)block + KERNEL_STACK_SIZE;
	t->tf = (struct trapframe *)(top - sizeof(struct trapframe));
	*t->tf = *tf;
	arch_thread_init(&t->arch, top);
	t->arch.fs_base = current->arch.fs_base;
	t->tid = next_tid++;
	t->state = TASK_RUNNABLE;
	t->sig_blocked = current->sig_blocked;
	memcpy(t->comm, current->comm, sizeof(t->comm));
	t->all_next = all_tasks;
	all_tasks = t;
	nr_tasks++;
	rq_push(t);
	return t;
}

struct task *sched_find(int tid)
{
	for (struct task *t = all_tasks; t; t = t->all_next)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct task *sched_first(void)
{
	return all_tasks;
}

int sched_nr_threads(void)
{
	return nr_tasks;
}

void sched_kick(void)
{
	kicked = true;
}

void sched_timer_fired(void)
{
	timer_armed = 0;
	kicked = true;
}

void sched_timer_changed(void)
{
	timers_due = 0; /* recomputed by the next sched_poll */
	kicked = true;
	timer_dirty = true;
}

/* Frees the thread that exited before the last switch, now that the CPU
 * is off its stack. */
static void sched_reap(void)
{
	struct task *t = dead_task;
	if (!t || t == current)
		return;
	dead_task = NULL;
	if (t == &boot_task)
		return; /* static, on the boot stack */
	if (task_cached < TASK_CACHE_MAX)
		task_cache[task_cached++] = t->kstack;
	else
		vmalloc_free(t->kstack, TASK_BLOCK_PAGES);
}

static void sched_switch(struct task *next)
{
	struct task *prev = current;

	if (next == prev)
		return;
	if (prev->state == TASK_DEAD)
		dead_task = prev;
	current = next;
	next->slice_end = clock_monotonic_ns() + SCHED_SLICE_NS;
	timer_dirty = true;
	arch_switch(&prev->arch, &next->arch);
	sched_reap();
}

void sched_thread_start(struct trapframe *tf)
{
	sched_reap();
	sched_return_to_user(tf, false);
}

/* Still waiting (1), or the wait's result. */
static int waiter_check(struct task *t, uint64_t now)
{
	if (t->wait_ready && t->wait_ready(t->wait_arg))
		return 0;
	if (t->wait_intr && signal_pending(t))
		return -EINTR;
	if (now >= t->wait_deadline)
		return -ETIMEDOUT;
	return 1;
}

/* Runs the pollers and the process timers, then checks every waiter;
 * true when one became runnable. */
static bool sched_poll(uint64_t now)
{
	bool woke = false;
	uint64_t due = UINT64_MAX;

	wait_run_pollers();
	kicked = false;
	if (stop_take()) {
		/* The monitor is stopping the instance: SIGTERM from
		 * outside (si_pid 0). */
		struct ksiginfo info = {.code = 0 /* SI_USER */};
		signal_send_process(KSIGTERM, &info);
	}
	if (now >= timers_due)
		timers_due = signal_timers_run(now);
	for (struct task **pp = &waiters; *pp;) {
		struct task *t = *pp;
		int r = waiter_check(t, now);
		if (r == 1) {
			due = MIN(due, t->wait_deadline);
			pp = &t->rq_next;
			continue;
		}
		*pp = t->rq_next;
		t->wait_result = r;
		t->state = TASK_RUNNABLE;
		rq_push(t);
		woke = true;
	}
	waiters_due = due;
	return woke;
}

static bool sched_poll_needed(uint64_t now)
{
	return kicked || now >= waiters_due || now >= timers_due;
}

/* Programs the APIC timer for the earliest thing that needs the CPU: the
 * running thread's slice end when others are runnable, a waiter's
 * deadline, a process timer, a poller.  idle: the CPU is about to halt,
 * so also wake within WAIT_MAX_SLEEP_NS (a wait never depends on one
 * interrupt not being lost).  Returns the time chosen. */
static uint64_t timer_arm(uint64_t now, bool idle)
{
	uint64_t want = waiters_due;

	timer_dirty = false;
	if (rq_head && !idle)
		want = MIN(want, current->slice_end);
	want = MIN(want, timers_due);
	want = MIN(want, wait_pollers_due(now));
	if (idle)
		want = MIN(want, now + WAIT_MAX_SLEEP_NS);
	if (want == UINT64_MAX || (idle && want <= now))
		return want;
	/* In user mode, something already due is handled by an interrupt
	 * right after the return. */
	want = MAX(want, now + SCHED_MIN_TIMER_NS);
	if (timer_armed > now && timer_armed <= want)
		return want; /* fires no later than wanted: it will re-arm */
	apic_timer_oneshot(want - now);
	timer_armed = want;
	return want;
}

/* Nothing runnable: halt until an interrupt. */
static void sched_idle(void)
{
	uint64_t now = clock_monotonic_ns();
	if (timer_arm(now, true) <= now) {
		kicked = true; /* something is due already */
		return;
	}
	irq_enable_and_halt();
	irq_disable();
	kicked = true;
}

/* Gives up the CPU: the current thread is requeued if still runnable,
 * then the first runnable thread runs (halting until there is one). */
static void schedule(void)
{
	struct task *prev = current;

	if (prev->state == TASK_RUNNABLE)
		rq_push(prev);
	for (;;) {
		uint64_t now = clock_monotonic_ns();
		if (waiters || now >= timers_due) {
			if (sched_poll_needed(now))
				sched_poll(now);
		} else if (kicked) {
			wait_run_pollers();
			kicked = false;
		}
		struct task *next = rq_pop();
		if (next) {
			sched_switch(next);
			return;
		}
		sched_idle();
	}
}

void sched_yield(void)
{
	if (rq_head)
		schedule();
}

int sched_block(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns,
		bool intr)
{
	struct task *t = current;

	t->wait_ready = ready;
	t->wait_arg = arg;
	t->wait_deadline = deadline_ns;
	t->wait_intr = intr;
	t->wait_result = -ETIMEDOUT;
	t->state = TASK_WAITING;
	t->rq_next = waiters;
	waiters = t;
	waiters_due = MIN(waiters_due, deadline_ns);
	timer_dirty = true;
	schedule();
	t->wait_ready = NULL;
	return t->wait_result;
}

void sched_wake(struct task *t, int result)
{
	if (t->state != TASK_WAITING)
		return;
	for (struct task **pp = &waiters; *pp; pp = &(*pp)->rq_next) {
		if (*pp == t) {
			*pp = t->rq_next;
			break;
		}
	}
	t->wait_result = result;
	t->state = TASK_RUNNABLE;
	rq_push(t);
}

noreturn void sched_exit(int status)
{
	struct task *t = current;

	if (t == &boot_task) {
		main_exited = true;
		main_status = status;
	}
	if (nr_tasks == 1)
		proc_exit(main_exited ? main_status : status);
	for (struct task **pp = &all_tasks; *pp; pp = &(*pp)->all_next) {
		if (*pp == t) {
			*pp = t->all_next;
			break;
		}
	}
	nr_tasks--;
	signal_thread_exit(t);
	t->state = TASK_DEAD;
	schedule();
	panic("thread %d ran after its exit", t->tid);
}

void sched_return_to_user(struct trapframe *tf, bool from_irq)
{
	uint64_t now = 0;
	bool woke = false;

	if (from_irq || kicked || timer_dirty || rq_head) {
		now = clock_monotonic_ns();
		if (from_irq || (kicked && waiters) || now >= waiters_due ||
		    now >= timers_due)
			woke = sched_poll(now);
		kicked = false;
	}
	/* A thread woken by an interrupt (a packet, a deadline) runs now;
	 * one woken by another thread's syscall waits for the waker to
	 * block or use up its slice. */
	if (rq_head && ((from_irq && woke) || now >= current->slice_end)) {
		schedule();
		now = clock_monotonic_ns();
	}
	signal_deliver(tf);
	if (timer_dirty || from_irq)
		timer_arm(now ? now : clock_monotonic_ns(), false);
}
