/*
 * Process-level syscalls for the one program: identity, limits, exit,
 * the thread-start bookkeeping libc does (set_tid_address,
 * set_robust_list), arch_prctl for TLS, and signal dispositions, which are
 * recorded and reported back but not yet delivered.
 */
#include "arch.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"
#include <asm/prctl.h>
#include <asm/signal.h>
#include <linux/resource.h>
#include <linux/utsname.h>

#define PID 1

static long sys_exit_group(long status)
{
	proc_exit((int)(status & 0xff));
}
SYSCALL_REGISTER(__NR_exit_group, exit_group, sys_exit_group);

static long sys_exit(long status)
{
	/* One thread: the thread's exit is the program's. */
	proc_exit((int)(status & 0xff));
}
SYSCALL_REGISTER(__NR_exit, exit, sys_exit);

static long sys_getpid(void)
{
	return PID;
}
SYSCALL_REGISTER(__NR_getpid, getpid, sys_getpid);
SYSCALL_REGISTER(__NR_gettid, gettid, sys_getpid);

static long sys_getppid(void)
{
	return 0;
}
SYSCALL_REGISTER(__NR_getppid, getppid, sys_getppid);

static long sys_zero(void)
{
	return 0; /* root: uid, gid and friends */
}
SYSCALL_REGISTER(__NR_getuid, getuid, sys_zero);
SYSCALL_REGISTER(__NR_geteuid, geteuid, sys_zero);
SYSCALL_REGISTER(__NR_getgid, getgid, sys_zero);
SYSCALL_REGISTER(__NR_getegid, getegid, sys_zero);

static long sys_getresuid(int *r, int *e, int *s)
{
	int z = 0;
	if (copy_to_user(r, &z, sizeof(z)) || copy_to_user(e, &z, sizeof(z)) ||
	    copy_to_user(s, &z, sizeof(z)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_getresuid, getresuid, sys_getresuid);
SYSCALL_REGISTER(__NR_getresgid, getresgid, sys_getresuid);

static long sys_getgroups(int size, void *list)
{
	return size < 0 ? -EINVAL : 0;
}
SYSCALL_REGISTER(__NR_getgroups, getgroups, sys_getgroups);

static long sys_setid(void)
{
	return 0; /* already root; dropping privileges is a no-op */
}
SYSCALL_REGISTER(__NR_setuid, setuid, sys_setid);
SYSCALL_REGISTER(__NR_setgid, setgid, sys_setid);
SYSCALL_REGISTER(__NR_setgroups, setgroups, sys_setid);

static long sys_getpgid(long pid)
{
	return PID;
}
SYSCALL_REGISTER(__NR_getpgid, getpgid, sys_getpgid);
SYSCALL_REGISTER(__NR_getpgrp, getpgrp, sys_getpgid);
SYSCALL_REGISTER(__NR_getsid, getsid, sys_getpgid);

static long sys_setsid(void)
{
	return PID;
}
SYSCALL_REGISTER(__NR_setsid, setsid, sys_setsid);

static long sys_set_tid_address(int *tidptr)
{
	/* Recorded for thread exit later; the caller gets its tid. */
	return PID;
}
SYSCALL_REGISTER(__NR_set_tid_address, set_tid_address, sys_set_tid_address);

static long sys_set_robust_list(void *head, size_t len)
{
	if (len != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	return 0;
}
SYSCALL_REGISTER(__NR_set_robust_list, set_robust_list, sys_set_robust_list);

static long sys_rseq(void)
{
	return -ENOSYS; /* glibc falls back silently */
}
SYSCALL_REGISTER(__NR_rseq, rseq, sys_rseq);

static long sys_arch_prctl(int code, uint64_t addr)
{
	switch (code) {
	case ARCH_SET_FS:
		if (addr >= USER_TOP)
			return -EPERM;
		arch_set_fs_base(addr);
		return 0;
	case ARCH_GET_FS: {
		uint64_t v = arch_get_fs_base();
		return copy_to_user((void *)addr, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -EINVAL; /* the kernel keeps GS */
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_arch_prctl, arch_prctl, sys_arch_prctl);

static long sys_uname(struct new_utsname *u)
{
	struct new_utsname k;
	memset(&k, 0, sizeof(k));
	strlcpy(k.sysname, "Linux", sizeof(k.sysname));
	strlcpy(k.nodename, proc_hostname(), sizeof(k.nodename));
	/* A version modern glibc accepts; kiln implements its ABI subset. */
	strlcpy(k.release, "6.1.0-kiln", sizeof(k.release));
	strlcpy(k.version, "#1 kiln", sizeof(k.version));
	strlcpy(k.machine, "x86_64", sizeof(k.machine));
	strlcpy(k.domainname, "(none)", sizeof(k.domainname));
	return copy_to_user(u, &k, sizeof(k)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_uname, uname, sys_uname);

static char hostname[65] = "kiln";

const char *proc_hostname(void)
{
	return hostname;
}

void proc_set_hostname(const char *name, size_t len)
{
	len = MIN(len, sizeof(hostname) - 1);
	memcpy(hostname, name, len);
	hostname[len] = 0;
}

static long sys_sethostname(const char *name, long len)
{
	char k[64];
	if (len < 0 || len > (long)sizeof(k))
		return -EINVAL;
	if (copy_from_user(k, name, (size_t)len))
		return -EFAULT;
	proc_set_hostname(k, (size_t)len);
	return 0;
}
SYSCALL_REGISTER(__NR_sethostname, sethostname, sys_sethostname);

/* Resource limits: reported, and settable within what kiln enforces. */
static struct klimit {
	uint64_t cur, max;
} limits[RLIM_NLIMITS];

static void limits_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	for (int i = 0; i < RLIM_NLIMITS; i++)
		limits[i].cur = limits[i].max = RLIM_INFINITY;
	limits[RLIMIT_STACK].cur = USER_STACK_SIZE;
	limits[RLIMIT_NOFILE].cur = limits[RLIMIT_NOFILE].max = MAX_FDS;
	limits[RLIMIT_CORE].cur = 0;
	limits[RLIMIT_NPROC].cur = limits[RLIMIT_NPROC].max = 1024;
	limits[RLIMIT_SIGPENDING].cur = limits[RLIMIT_SIGPENDING].max = 1024;
	limits[RLIMIT_MSGQUEUE].cur = limits[RLIMIT_MSGQUEUE].max = 819200;
	limits[RLIMIT_MEMLOCK].cur = limits[RLIMIT_MEMLOCK].max = 8 << 20;
}

static long sys_prlimit64(long pid, unsigned res, const struct klimit *nw,
			  struct klimit *old)
{
	limits_init();
	if (pid != 0 && pid != PID)
		return -ESRCH;
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	struct klimit n;
	if (nw && copy_from_user(&n, nw, sizeof(n)))
		return -EFAULT;
	if (nw && n.cur > n.max)
		return -EINVAL;
	if (old && copy_to_user(old, &limits[res], sizeof(*old)))
		return -EFAULT;
	if (nw)
		limits[res] = n;
	return 0;
}
SYSCALL_REGISTER(__NR_prlimit64, prlimit64, sys_prlimit64);

static long sys_getrlimit(unsigned res, struct klimit *old)
{
	return sys_prlimit64(0, res, NULL, old);
}
SYSCALL_REGISTER(__NR_getrlimit, getrlimit, sys_getrlimit);

static long sys_setrlimit(unsigned res, const struct klimit *nw)
{
	return sys_prlimit64(0, res, nw, NULL);
}
SYSCALL_REGISTER(__NR_setrlimit, setrlimit, sys_setrlimit);

static long sys_getrandom(void *buf, size_t len, unsigned flags)
{
	char chunk[256];
	size_t done = 0;
	if (flags & ~7u) /* GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE */
		return -EINVAL;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	while (done < len) {
		size_t c = MIN(len - done, sizeof(chunk));
		random_bytes(chunk, c);
		if (copy_to_user((char *)buf + done, chunk, c))
			return done ? (long)done : -EFAULT;
		done += c;
	}
	return (long)done;
}
SYSCALL_REGISTER(__NR_getrandom, getrandom, sys_getrandom);

/* Signals: dispositions and the mask are kept so programs that save and
 * restore them see consistent answers; nothing is delivered yet. */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};
static struct ksigaction actions[64];
static uint64_t sigmask;

static long sys_rt_sigaction(int sig, const struct ksigaction *act,
			     struct ksigaction *old, size_t setsize)
{
	if (setsize != 8)
		return -EINVAL;
	if (sig < 1 || sig > 64 || ((sig == 9 || sig == 19) && act))
		return -EINVAL;
	struct ksigaction n;
	if (act && copy_from_user(&n, act, sizeof(n)))
		return -EFAULT;
	if (old && copy_to_user(old, &actions[sig - 1], sizeof(*old)))
		return -EFAULT;
	if (act)
		actions[sig - 1] = n;
	return 0;
}
SYSCALL_REGISTER(__NR_rt_sigaction, rt_sigaction, sys_rt_sigaction);

static long sys_rt_sigprocmask(int how, const uint64_t *set, uint64_t *old,
			       size_t setsize)
{
	if (setsize != 8)
		return -EINVAL;
	uint64_t n = 0;
	if (set && copy_from_user(&n, set, sizeof(n)))
		return -EFAULT;
	if (set && how != 0 && how != 1 && how != 2)
		return -EINVAL; /* SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK */
	if (old && copy_to_user(old, &sigmask, sizeof(sigmask)))
		return -EFAULT;
	if (set) {
		n &= ~((1ULL << 8) | (1ULL << 18)); /* SIGKILL, SIGSTOP */
		if (how == 0)
			sigmask |= n;
		else if (how == 1)
			sigmask &= ~n;
		else
			sigmask = n;
	}
	return 0;
}
SYSCALL_REGISTER(__NR_rt_sigprocmask, rt_sigprocmask, sys_rt_sigprocmask);

static struct {
	uint64_t sp;
	int flags, pad;
	uint64_t size;
} altstack = {0, 2 /* SS_DISABLE */, 0, 0};

static long sys_sigaltstack(const void *ss, void *old)
{
	typeof(altstack) n;
	if (ss && copy_from_user(&n, ss, sizeof(n)))
		return -EFAULT;
	if (old && copy_to_user(old, &altstack, sizeof(altstack)))
		return -EFAULT;
	if (ss) {
		if (n.flags & ~(2 | (1 << 31)))
			return -EINVAL;
		if (!(n.flags & 2) && n.size < 2048)
			return -ENOMEM;
		altstack = n;
	}
	return 0;
}
SYSCALL_REGISTER(__NR_sigaltstack, sigaltstack, sys_sigaltstack);

static long sys_kill(long pid, int sig)
{
	if (pid != PID && pid != 0 && pid != -1)
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	/* Without delivery, a signal's default action is what happens. */
	const uint64_t ignored = (1ULL << 17) | (1ULL << 28) | (1ULL << 23);
	if (actions[sig - 1].handler == 1 /* SIG_IGN */ ||
	    (actions[sig - 1].handler == 0 && (ignored >> (sig - 1)) & 1))
		return 0;
	klog("program killed by signal %d, exit status %d", sig, 128 + sig);
	proc_exit(128 + sig);
}
SYSCALL_REGISTER(__NR_kill, kill, sys_kill);

static long sys_tgkill(long tgid, long tid, int sig)
{
	return sys_kill(tid, sig);
}
SYSCALL_REGISTER(__NR_tgkill, tgkill, sys_tgkill);

static long sys_tkill(long tid, int sig)
{
	return sys_kill(tid, sig);
}
SYSCALL_REGISTER(__NR_tkill, tkill, sys_tkill);

/* futex with one thread: nobody else can wake a waiter or be woken.
 * WAKE wakes no one; WAIT returns EAGAIN when the word already differs
 * (the usual case: a lock released before the call) and otherwise waits
 * for its timeout, as Linux would with no other thread.  Real futexes
 * come with threads (issue 5). */
static long sys_futex(uint32_t *uaddr, int op, uint32_t val,
		      const int64_t *utimeout, uint32_t *uaddr2, uint32_t val3)
{
	int cmd =
	    op & 127; /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
	uint32_t cur;

	switch (cmd) {
	case 1:	 /* FUTEX_WAKE */
	case 10: /* FUTEX_WAKE_BITSET */
		/* Like Linux, a private wake never reads the word. */
		return IS_ALIGNED((uint64_t)uaddr, 4) ? 0 : -EINVAL;
	case 0: /* FUTEX_WAIT: relative timeout */
	case 9: /* FUTEX_WAIT_BITSET: absolute timeout */
		if (cmd == 9 && val3 == 0)
			return -EINVAL;
		if (!IS_ALIGNED((uint64_t)uaddr, 4))
			return -EINVAL;
		if (copy_from_user(&cur, uaddr, sizeof(cur)))
			return -EFAULT;
		if (cur != val)
			return -EAGAIN;
		uint64_t deadline = UINT64_MAX;
		if (utimeout) {
			uint64_t ns;
			int r = user_timespec_ns(utimeout, &ns);
			if (r)
				return r;
			if (cmd == 9) {
				/* Absolute, on CLOCK_REALTIME if asked. */
				uint64_t base = (op & 256)
						    ? clock_realtime_ns()
						    : clock_monotonic_ns();
				ns = ns <= base ? 0 : ns - base;
			}
			deadline = wait_deadline_after(ns);
		}
		wait_sleep_until(deadline);
		return -ETIMEDOUT;
	default:
		return -ENOSYS;
	}
}
SYSCALL_REGISTER(__NR_futex, futex, sys_futex);

static long sys_sched_yield(void)
{
	return 0;
}
SYSCALL_REGISTER(__NR_sched_yield, sched_yield, sys_sched_yield);

static long sys_sched_getaffinity(long pid, size_t len, void *mask)
{
	if (len < 8 || (len & 7))
		return -EINVAL;
	uint64_t m = 1; /* one CPU */
	if (clear_user(mask, len) || copy_to_user(mask, &m, sizeof(m)))
		return -EFAULT;
	return 8;
}
SYSCALL_REGISTER(__NR_sched_getaffinity, sched_getaffinity,
		 sys_sched_getaffinity);

static long sys_prctl(int option, unsigned long a2)
{
	switch (option) {
	case 15: /* PR_SET_NAME */
	case 16: /* PR_GET_NAME */
		if (option == 16)
			return copy_to_user((void *)a2, "kiln\0", 5) ? -EFAULT
								     : 0;
		return 0;
	case 38: /* PR_SET_NO_NEW_PRIVS */
	case 4:	 /* PR_SET_DUMPABLE */
		return 0;
	case 3: /* PR_GET_DUMPABLE */
		return 1;
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_prctl, prctl, sys_prctl);
