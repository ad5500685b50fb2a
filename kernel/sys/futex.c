/*
 * futex(2): the waiting half of every pthread mutex, condition variable,
 * semaphore, pthread_join (through the clear-child-tid word) and Go's
 * lock_futex.
 *
 * Waiters are kept in a small hash table keyed by the user address of the
 * futex word (one process, one address space: private and shared futexes
 * are the same thing here).  Each waiter is a struct on its own kernel
 * stack; a wake unlinks it, marks it woken and makes its thread runnable
 * directly (sched_wake).  The check of the word's value and the enqueue
 * happen with interrupts off on the one CPU, so no wake can fall between
 * them: the atomicity FUTEX_WAIT promises.
 *
 * FUTEX_WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET and
 * WAKE_BITSET are implemented, with FUTEX_PRIVATE_FLAG accepted and
 * FUTEX_CLOCK_REALTIME honoured; the priority-inheritance operations
 * answer -ENOSYS (glibc uses them only for PTHREAD_PRIO_INHERIT mutexes).
 */
#include "ksignal.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#define FUTEX_WAIT	     0
#define FUTEX_WAKE	     1
#define FUTEX_REQUEUE	     3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAKE_OP	     5
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_PRIVATE_FLAG   128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_ANY     0xffffffffu

struct futex_waiter {
	uint64_t uaddr;
	uint32_t bitset;
	bool woken;
	struct task *task;
	struct futex_waiter *next;
};

static struct futex_waiter *futex_table[FUTEX_HASH_SIZE];

static struct futex_waiter **futex_bucket(uint64_t uaddr)
{
	return &futex_table[(uaddr >> 2) % FUTEX_HASH_SIZE];
}

/* Appends w to its bucket (FIFO: the first to wait is the first woken). */
static void futex_enqueue(struct futex_waiter *w)
{
	struct futex_waiter **pp = futex_bucket(w->uaddr);
	while (*pp)
		pp = &(*pp)->next;
	w->next = NULL;
	*pp = w;
}

static void futex_unlink(struct futex_waiter *w)
{
	for (struct futex_waiter **pp = futex_bucket(w->uaddr); *pp;
	     pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

static bool futex_woken(void *arg)
{
	return ((struct futex_waiter *)arg)->woken;
}

/* Wakes up to n waiters on uaddr whose bitset meets bitset (at least one
 * even when n is 0, as Linux does); returns how many. */
static int futex_wake_bits(uint64_t uaddr, int n, uint32_t bitset)
{
	int woken = 0;
	struct futex_waiter **pp = futex_bucket(uaddr);

	while (*pp) {
		struct futex_waiter *w = *pp;
		if (w->uaddr != uaddr || !(w->bitset & bitset)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->woken = true;
		sched_wake(w->task, 0);
		if (++woken >= n)
			break;
	}
	return woken;
}

int futex_wake(uint64_t uaddr, int n)
{
	return futex_wake_bits(uaddr, n, FUTEX_BITSET_ANY);
}

static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline,
		       bool timed, uint32_t bitset)
{
	struct futex_waiter w = {uaddr, bitset, false, current, NULL};
	uint32_t cur;

	if (copy_from_user(&cur, (void *)uaddr, sizeof(cur)))
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	futex_enqueue(&w);
	int r = wait_until(futex_woken, &w, deadline);
	if (w.woken)
		return 0; /* a wake consumed counts even if a signal came */
	futex_unlink(&w);
	if (r == -ETIMEDOUT)
		return -ETIMEDOUT;
	return timed ? -ERESTART_RESTARTBLOCK : -ERESTARTSYS;
}

/* Wakes nr_wake waiters of uaddr and moves up to nr_requeue of the others
 * to uaddr2; returns the number woken plus moved. */
static long futex_requeue(uint64_t uaddr, uint64_t uaddr2, int nr_wake,
			  int nr_requeue)
{
	int woken = 0, moved = 0;
	struct futex_waiter **pp = futex_bucket(uaddr);
	struct futex_waiter *move = NULL, **tail = &move;

	while (*pp) {
		struct futex_waiter *w = *pp;
		if (w->uaddr != uaddr) {
			pp = &w->next;
			continue;
		}
		if (woken < nr_wake) {
			*pp = w->next;
			w->woken = true;
			sched_wake(w->task, 0);
			woken++;
		} else if (moved < nr_requeue) {
			*pp = w->next;
			w->next = NULL;
			*tail = w;
			tail = &w->next;
			moved++;
		} else {
			break;
		}
	}
	/* Enqueue after the walk: uaddr2 may share uaddr's bucket. */
	while (move) {
		struct futex_waiter *w = move;
		move = w->next;
		w->uaddr = uaddr2;
		futex_enqueue(w);
	}
	return woken + moved;
}

/* FUTEX_WAKE_OP: *uaddr2 = oldval OP oparg; wake on uaddr; and if
 * (oldval CMP cmparg) also wake on uaddr2. */
static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, int nr_wake,
			  int nr_wake2, uint32_t encoded)
{
	int op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int32_t oparg = (int32_t)(encoded << 8) >> 20;
	int32_t cmparg = (int32_t)(encoded << 20) >> 20;
	int32_t oldval, newval;

	if (encoded & (8u << 28)) {
		if (oparg < 0 || oparg > 31)
			return -EINVAL;
		oparg = (int32_t)(1u << oparg);
	}
	if (!IS_ALIGNED(uaddr2, 4))
		return -EINVAL;
	if (copy_from_user(&oldval, (void *)uaddr2, sizeof(oldval)))
		return -EFAULT;
	switch (op) {
	case 0: /* FUTEX_OP_SET */
		newval = oparg;
		break;
	case 1: /* FUTEX_OP_ADD */
		newval = (int32_t)((uint32_t)oldval + (uint32_t)oparg);
		break;
	case 2: /* FUTEX_OP_OR */
		newval = oldval | oparg;
		break;
	case 3: /* FUTEX_OP_ANDN */
		newval = oldval & ~oparg;
		break;
	case 4: /* FUTEX_OP_XOR */
		newval = oldval ^ oparg;
		break;
	default:
		return -ENOSYS;
	}
	bool hit;
	switch (cmp) {
	case 0:
		hit = oldval == cmparg;
		break;
	case 1:
		hit = oldval != cmparg;
		break;
	case 2:
		hit = oldval < cmparg;
		break;
	case 3:
		hit = oldval <= cmparg;
		break;
	case 4:
		hit = oldval > cmparg;
		break;
	case 5:
		hit = oldval >= cmparg;
		break;
	default:
		return -ENOSYS;
	}
	if (copy_to_user((void *)uaddr2, &newval, sizeof(newval)))
		return -EFAULT;
	long n = futex_wake(uaddr, nr_wake);
	if (hit)
		n += futex_wake(uaddr2, nr_wake2);
	return n;
}

/* The timeout argument as a deadline: relative for FUTEX_WAIT, absolute
 * (monotonic, or realtime with FUTEX_CLOCK_REALTIME) for WAIT_BITSET. */
static int futex_deadline(const void *uts, bool absolute, bool realtime,
			  uint64_t *deadline)
{
	uint64_t ns;

	*deadline = UINT64_MAX;
	if (!uts)
		return 0;
	int r = user_timespec_ns(uts, &ns);
	if (r)
		return r;
	if (absolute) {
		uint64_t base =
		    realtime ? clock_realtime_ns() : clock_monotonic_ns();
		ns = ns <= base ? 0 : ns - base;
	}
	*deadline = wait_deadline_after(ns);
	return 0;
}

static long sys_futex(uint64_t uaddr, int op, uint32_t val, const void *uts,
		      uint64_t uaddr2, uint32_t val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	uint64_t deadline;
	int r;

	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	if (!IS_ALIGNED(uaddr, 4))
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT_BITSET && val3 == 0)
			return -EINVAL;
		r = futex_deadline(uts, cmd == FUTEX_WAIT_BITSET, realtime,
				   &deadline);
		if (r)
			return r;
		return futex_wait(uaddr, val, deadline, uts != NULL,
				  cmd == FUTEX_WAIT ? FUTEX_BITSET_ANY : val3);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		/* Like Linux, a wake never reads the word. */
		if (cmd == FUTEX_WAKE_BITSET && val3 == 0)
			return -EINVAL;
		return futex_wake_bits(uaddr, (int)val,
				       cmd == FUTEX_WAKE ? FUTEX_BITSET_ANY
							 : val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		/* The timeout argument carries nr_requeue. */
		int nr_requeue = (int)(uint64_t)uts;
		if ((int)val < 0 || nr_requeue < 0)
			return -EINVAL;
		if (!IS_ALIGNED(uaddr2, 4))
			return -EINVAL;
		if (cmd == FUTEX_CMP_REQUEUE) {
			uint32_t cur;
			if (copy_from_user(&cur, (void *)uaddr, sizeof(cur)))
				return -EFAULT;
			if (cur != val3)
				return -EAGAIN;
		}
		return futex_requeue(uaddr, uaddr2, (int)val, nr_requeue);
	}
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, uaddr2, (int)val,
				     (int)(uint64_t)uts, val3);
	default:
		return -ENOSYS;
	}
}
SYSCALL_REGISTER(__NR_futex, futex, sys_futex);
