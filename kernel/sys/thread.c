/*
 * Thread syscalls: clone and clone3 for new threads, exit and
 * exit_group, the tid bookkeeping libc does at thread start
 * (set_tid_address, set_robust_list), gettid, and the scheduler calls
 * (sched_yield, affinity, getcpu).
 *
 * Only threads can be created: the flags must share memory, descriptors,
 * filesystem state and signal handlers (CLONE_VM|CLONE_FS|CLONE_FILES|
 * CLONE_SIGHAND|CLONE_THREAD, what glibc, musl and Go pass).  A fork-like
 * clone, fork and vfork answer -ENOSYS with one line on the console: an
 * instance is one process.
 *
 * A thread's exit does what pthread_join and robust mutexes rely on:
 * robust futexes it still holds are marked FUTEX_OWNER_DIED (waking a
 * waiter), then the clear-child-tid word is zeroed and woken.
 */
#include "arch.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include <linux/sched.h>

#define THREAD_FLAGS                                                           \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
/* Flags that change nothing for threads of the one process. */
#define THREAD_FLAGS_OK                                                        \
	(THREAD_FLAGS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |   \
	 CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED |          \
	 CLONE_IO | CSIGNAL)

static void fork_refused(const char *what)
{
	static bool said;
	if (!said) {
		said = true;
		klog("%s is not supported: an instance runs one process "
		     "(threads are fine)",
		     what);
	}
}

static long thread_create(uint64_t flags, uint64_t sp, uint64_t ptid,
			  uint64_t ctid, uint64_t tls)
{
	/* Linux's own consistency rules come first. */
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & THREAD_FLAGS) != THREAD_FLAGS) {
		fork_refused(flags & CLONE_VM
				 ? "clone without CLONE_THREAD"
				 : "fork (clone without CLONE_VM)");
		return -ENOSYS;
	}
	if (flags & ~(uint64_t)THREAD_FLAGS_OK)
		return -EINVAL; /* namespaces, pidfd, vfork of a thread... */
	if ((flags & CLONE_SETTLS) && tls >= USER_TOP)
		return -EPERM;
	if (sched_nr_threads() >= MAX_THREADS)
		return -EAGAIN;

	struct task *t = sched_spawn(current->tf);
	if (!t)
		return -ENOMEM;
	t->tf->rax = 0; /* the child's return value */
	if (sp)
		t->tf->rsp = sp;
	t->tf->error = TF_NO_SYSCALL;
	if (flags & CLONE_SETTLS)
		t->arch.fs_base = tls;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	/* As on Linux, failing to store a tid does not fail the clone. */
	int32_t tid = t->tid;
	if (flags & CLONE_PARENT_SETTID)
		copy_to_user((void *)ptid, &tid, sizeof(tid));
	if (flags & CLONE_CHILD_SETTID)
		copy_to_user((void *)ctid, &tid, sizeof(tid));
	return tid;
}

static long sys_clone(uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid,
		      uint64_t tls)
{
	return thread_create(flags, sp, ptid, ctid, tls);
}
SYSCALL_REGISTER(__NR_clone, clone, sys_clone);

/* struct clone_args, version 0 (64 bytes) and later (set_tid, cgroup). */
struct kclone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
	    stack_size, tls, set_tid, set_tid_size, cgroup;
};

static long sys_clone3(const void *uargs, size_t size)
{
	struct kclone_args a;

	if (size < 64 || size > PAGE_SIZE)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (copy_from_user(&a, uargs, MIN(size, sizeof(a))))
		return -EFAULT;
	/* Bytes of a newer, larger struct must be zero (E2BIG). */
	for (size_t off = sizeof(a); off < size; off++) {
		uint8_t b;
		if (copy_from_user(&b, (const uint8_t *)uargs + off, 1))
			return -EFAULT;
		if (b)
			return -E2BIG;
	}
	if ((a.flags & CSIGNAL) || a.exit_signal > 64)
		return -EINVAL;
	/* pidfd and cgroup only count with their flags (which are refused
	 * below); choosing the tid needs a pid namespace. */
	if (a.set_tid || a.set_tid_size)
		return -EINVAL;
	if (!a.stack != !a.stack_size)
		return -EINVAL;
	uint64_t sp = a.stack ? a.stack + a.stack_size : 0;
	return thread_create(a.flags, sp, a.parent_tid, a.child_tid, a.tls);
}
SYSCALL_REGISTER(__NR_clone3, clone3, sys_clone3);

static long sys_fork(void)
{
	fork_refused("fork");
	return -ENOSYS;
}
SYSCALL_REGISTER(__NR_fork, fork, sys_fork);
SYSCALL_REGISTER(__NR_vfork, vfork, sys_fork);

/* ---- exit ---- */

#define FUTEX_WAITERS	 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK	 0x3fffffffu
#define ROBUST_LIST_MAX	 2048 /* Linux's ROBUST_LIST_LIMIT */

struct robust_list_head {
	uint64_t next;	      /* struct robust_list *, circular */
	int64_t futex_offset; /* from an entry to its futex word */
	uint64_t op_pending;  /* entry being locked or unlocked */
};

/* A robust mutex the dead thread held: mark its owner dead and wake one
 * waiter, who gets EOWNERDEAD from pthread_mutex_lock. */
static void robust_futex_death(uint64_t uaddr, int tid, bool pi)
{
	uint32_t v;

	if (!IS_ALIGNED(uaddr, 4) ||
	    copy_from_user(&v, (void *)uaddr, sizeof(v)))
		return;
	if ((v & FUTEX_TID_MASK) != (uint32_t)tid)
		return;
	uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (copy_to_user((void *)uaddr, &nv, sizeof(nv)))
		return;
	if (!pi && (v & FUTEX_WAITERS))
		futex_wake(uaddr, 1);
}

static void robust_list_release(struct task *t)
{
	struct robust_list_head h;
	uint64_t head = t->robust_list;

	if (!head || copy_from_user(&h, (void *)head, sizeof(h)))
		return;
	uint64_t entry = h.next;
	for (int n = 0; entry != head && n < ROBUST_LIST_MAX; n++) {
		uint64_t next;
		uint64_t e = entry & ~1UL;
		if (copy_from_user(&next, (void *)e, sizeof(next)))
			return;
		if (e != (h.op_pending & ~1UL))
			robust_futex_death(e + (uint64_t)h.futex_offset, t->tid,
					   entry & 1);
		entry = next;
	}
	if (h.op_pending)
		robust_futex_death((h.op_pending & ~1UL) +
				       (uint64_t)h.futex_offset,
				   t->tid, h.op_pending & 1);
}

static long sys_exit(long status)
{
	struct task *t = current;

	if (sched_nr_threads() > 1) {
		robust_list_release(t);
		if (t->clear_child_tid) {
			uint32_t zero = 0;
			if (!copy_to_user((void *)t->clear_child_tid, &zero,
					  sizeof(zero)))
				futex_wake(t->clear_child_tid, 1);
		}
	}
	sched_exit((int)(status & 0xff));
}
SYSCALL_REGISTER(__NR_exit, exit, sys_exit);

static long sys_exit_group(long status)
{
	proc_exit((int)(status & 0xff));
}
SYSCALL_REGISTER(__NR_exit_group, exit_group, sys_exit_group);

/* ---- identity ---- */

static long sys_gettid(void)
{
	return current->tid;
}
SYSCALL_REGISTER(__NR_gettid, gettid, sys_gettid);

static long sys_set_tid_address(uint64_t tidptr)
{
	current->clear_child_tid = tidptr;
	return current->tid;
}
SYSCALL_REGISTER(__NR_set_tid_address, set_tid_address, sys_set_tid_address);

static long sys_set_robust_list(uint64_t head, size_t len)
{
	if (len != sizeof(struct robust_list_head))
		return -EINVAL;
	current->robust_list = head;
	return 0;
}
SYSCALL_REGISTER(__NR_set_robust_list, set_robust_list, sys_set_robust_list);

static long sys_get_robust_list(long tid, uint64_t *uhead, uint64_t *ulen)
{
	struct task *t = tid ? sched_find((int)tid) : current;
	if (!t)
		return -ESRCH;
	uint64_t len = sizeof(struct robust_list_head);
	if (copy_to_user(ulen, &len, sizeof(len)) ||
	    copy_to_user(uhead, &t->robust_list, sizeof(t->robust_list)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_get_robust_list, get_robust_list, sys_get_robust_list);

/* ---- scheduling ---- */

static long sys_sched_yield(void)
{
	sched_yield();
	return 0;
}
SYSCALL_REGISTER(__NR_sched_yield, sched_yield, sys_sched_yield);

/* pid 0 is the caller; otherwise the process (1) or one of its threads. */
static bool sched_pid_ok(long pid)
{
	return pid == 0 || pid == 1 || (pid > 0 && sched_find((int)pid));
}

static long sys_sched_getaffinity(long pid, size_t len, void *mask)
{
	if (len < 8 || (len & 7))
		return -EINVAL;
	if (!sched_pid_ok(pid))
		return -ESRCH;
	uint64_t m = 1; /* one CPU */
	if (clear_user(mask, len) || copy_to_user(mask, &m, sizeof(m)))
		return -EFAULT;
	return 8;
}
SYSCALL_REGISTER(__NR_sched_getaffinity, sched_getaffinity,
		 sys_sched_getaffinity);

static long sys_sched_setaffinity(long pid, size_t len, const void *mask)
{
	uint8_t first = 0;

	if (!sched_pid_ok(pid))
		return -ESRCH;
	if (len && copy_from_user(&first, mask, 1))
		return -EFAULT;
	/* The set must contain an online CPU, and there is only CPU 0. */
	return (first & 1) ? 0 : -EINVAL;
}
SYSCALL_REGISTER(__NR_sched_setaffinity, sched_setaffinity,
		 sys_sched_setaffinity);

static long sys_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	unsigned zero = 0;
	if ((cpu && copy_to_user(cpu, &zero, sizeof(zero))) ||
	    (node && copy_to_user(node, &zero, sizeof(zero))))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_getcpu, getcpu, sys_getcpu);
