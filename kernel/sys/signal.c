/*
 * Signals: dispositions, masks, generation and delivery, with the Linux
 * x86-64 ABI the libcs and Go depend on.
 *
 * A signal is generated for the process (kill, alarm) or for one thread
 * (tgkill, a fault, SIGPIPE).  A process signal goes to the pending set
 * of one thread that does not block it (the caller first), or, when every
 * thread blocks it, to the process's pending set, where the first thread
 * to unblock it takes it.  A signal that would be ignored is dropped at
 * once; one whose default action kills ends the program at once (Linux
 * kills the whole thread group the same way).  Otherwise the target is
 * woken from an interruptible wait and takes the signal on its way back
 * to user mode (signal_deliver, called by sched_return_to_user): the
 * kernel pushes an rt_sigframe on the user stack (or the alternate signal
 * stack) holding a siginfo, a ucontext with every register, the signal
 * mask and a pointer to the FXSAVE image, and enters the handler;
 * rt_sigreturn, called by the handler's SA_RESTORER trampoline, loads it
 * all back.  The layout is Linux's, byte for byte, because programs read
 * and write it: Go's asynchronous preemption edits rip and rsp in the
 * ucontext to inject a call.
 *
 * Each pending signal keeps one siginfo: a second instance of a pending
 * signal, real-time ones included, is merged into the first.  Stop
 * signals (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) have nothing to stop the
 * program for and are ignored; core-dumping ones terminate.
 */
#include "arch.h"
#include "ksignal.h"
#include "proc.h"
#include "sched.h"
#include "stop.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"
#include "x86.h"

#define NSIG	    64
#define SIG_DFL	    0
#define SIG_IGN	    1
#define SIGBIT(s)   (1ULL << ((s)-1))
#define UNBLOCKABLE (SIGBIT(KSIGKILL) | SIGBIT(KSIGSTOP))
/* Taken before other pending signals, as Linux does, so a fault's signal
 * is the one its handler sees. */
#define SYNCHRONOUS                                                            \
	(SIGBIT(KSIGSEGV) | SIGBIT(KSIGBUS) | SIGBIT(KSIGILL) |                \
	 SIGBIT(KSIGTRAP) | SIGBIT(KSIGFPE) | SIGBIT(31))
/* Default action ignore: SIGCHLD, SIGCONT, SIGURG, SIGWINCH; stop
 * signals too (see above). */
#define DEFAULT_IGNORED                                                        \
	(SIGBIT(17) | SIGBIT(18) | SIGBIT(23) | SIGBIT(28) | SIGBIT(19) |      \
	 SIGBIT(20) | SIGBIT(21) | SIGBIT(22))

#define SA_SIGINFO   0x00000004UL
#define SA_RESTORER  0x04000000UL
#define SA_ONSTACK   0x08000000UL
#define SA_RESTART   0x10000000UL
#define SA_NODEFER   0x40000000UL
#define SA_RESETHAND 0x80000000UL

#define SS_ONSTACK    1
#define SS_DISABLE    2
#define SS_AUTODISARM (1U << 31)
#define MINSIGSTKSZ   2048

#define SI_USER	  0
#define SI_KERNEL 0x80
#define SI_TIMER  (-2)
#define SI_TKILL  (-6)

#define UC_SIGCONTEXT_SS     2
#define UC_STRICT_RESTORE_SS 4

/* RFLAGS bits a program may change through sigreturn (Linux's
 * FIX_EFLAGS): CF PF AF ZF SF TF DF OF RF AC. */
#define FIX_EFLAGS 0x50dd5UL
#define RFLAGS_RF  (1UL << 16)

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The frame, as on Linux x86-64 (arch/x86/include/asm/sigframe.h). */
struct sigcontext64 {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* user address of the FXSAVE image, or 0 */
	uint64_t reserved1[8];
};

struct user_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

struct ucontext64 {
	uint64_t flags;
	uint64_t link;
	struct user_stack stack;
	struct sigcontext64 mc;
	uint64_t sigmask;
};

struct siginfo64 {
	struct ksiginfo head; /* signo, errno, code, and the first fields */
	uint8_t rest[96];
};

struct rt_sigframe {
	uint64_t pretcode; /* the handler's return address: sa_restorer */
	struct ucontext64 uc;
	struct siginfo64 info;
};

_Static_assert(sizeof(struct sigcontext64) == 256, "sigcontext layout");
_Static_assert(sizeof(struct ucontext64) == 304, "ucontext layout");
_Static_assert(sizeof(struct siginfo64) == 128, "siginfo layout");
_Static_assert(sizeof(struct rt_sigframe) == 440, "rt_sigframe layout");

/* The process's part: dispositions, signals no thread could take yet,
 * and the interval timers. */
static struct ksigaction actions[NSIG];
static uint64_t shared_pending;
static struct ksiginfo shared_info[NSIG];

static bool sig_valid(long sig)
{
	return sig >= 1 && sig <= NSIG;
}

static bool sig_ignored(int sig)
{
	uint64_t h = actions[sig - 1].handler;
	return h == SIG_IGN ||
	       (h == SIG_DFL && (DEFAULT_IGNORED & SIGBIT(sig)));
}

static bool sig_kills(int sig)
{
	return actions[sig - 1].handler == SIG_DFL &&
	       !(DEFAULT_IGNORED & SIGBIT(sig));
}

noreturn void signal_terminate(int sig)
{
	klog("program killed by signal %d, exit status %d", sig, 128 + sig);
	proc_exit(128 + sig);
}

bool signal_pending(const struct task *t)
{
	return ((t->sig_pending | shared_pending) & ~t->sig_blocked) != 0;
}

static void info_fill(struct ksiginfo *dst, int sig,
		      const struct ksiginfo *info)
{
	if (info) {
		*dst = *info;
	} else {
		memset(dst, 0, sizeof(*dst));
		dst->code = SI_KERNEL;
	}
	dst->signo = sig;
}

/* Makes sig pending for t and gets t to act on it; private: sent to t
 * alone (tgkill, a fault, a SIGEV_THREAD_ID timer), which dies with t. */
static void signal_queue(struct task *t, int sig, const struct ksiginfo *info,
			 bool private)
{
	if (!(t->sig_pending & SIGBIT(sig))) {
		info_fill(&t->sig_info[sig - 1], sig, info);
		t->sig_private &= ~SIGBIT(sig);
		if (private)
			t->sig_private |= SIGBIT(sig);
	}
	t->sig_pending |= SIGBIT(sig);
	sched_kick(); /* a sigtimedwait may be waiting for it, blocked */
	signalfd_notify(sig);
	if (t->sig_blocked & SIGBIT(sig))
		return;
	if (sig_kills(sig))
		signal_terminate(sig);
	if (t->state == TASK_WAITING && t->wait_intr)
		sched_wake(t, -EINTR);
}

void signal_send_thread(struct task *t, int sig, const struct ksiginfo *info)
{
	if (sig == KSIGKILL)
		signal_terminate(sig);
	if (sig_ignored(sig) && !(t->sig_blocked & SIGBIT(sig)))
		return;
	signal_queue(t, sig, info, true);
}

void signal_send_process(int sig, const struct ksiginfo *info)
{
	struct task *t = current;

	if (sig == KSIGKILL)
		signal_terminate(sig);
	if (t->state == TASK_DEAD || (t->sig_blocked & SIGBIT(sig))) {
		for (t = sched_first(); t; t = t->all_next)
			if (!(t->sig_blocked & SIGBIT(sig)))
				break;
	}
	if (sig_ignored(sig) && t)
		return;
	if (t) {
		signal_queue(t, sig, info, false);
		return;
	}
	/* Blocked everywhere: the first thread to unblock it takes it. */
	if (!(shared_pending & SIGBIT(sig)))
		info_fill(&shared_info[sig - 1], sig, info);
	shared_pending |= SIGBIT(sig);
	sched_kick();
	signalfd_notify(sig);
}

void signal_raise_pipe(void)
{
	struct ksiginfo info = {.code = SI_USER, .a = 1};
	signal_send_thread(current, KSIGPIPE, &info);
}

bool signal_fault(int sig, int code, uint64_t addr, uint64_t trapno,
		  uint64_t err)
{
	struct task *t = current;
	uint64_t h = actions[sig - 1].handler;

	/* Linux forces a fault's signal: blocked or ignored, it kills. */
	if (h == SIG_DFL || h == SIG_IGN || (t->sig_blocked & SIGBIT(sig)))
		return false;
	struct ksiginfo info = {.code = code, .a = addr};
	t->fault_trapno = trapno;
	t->fault_err = err;
	t->fault_addr = addr;
	t->sig_pending &= ~SIGBIT(sig); /* this fault's info wins */
	signal_queue(t, sig, &info, true);
	return true;
}

void signal_thread_exit(struct task *t)
{
	/* Signals sent to the process go to another thread; those sent to
	 * this one die with it, as on Linux. */
	for (int sig = 1; sig <= NSIG; sig++) {
		if (!(t->sig_pending & ~t->sig_private & SIGBIT(sig)) ||
		    (shared_pending & SIGBIT(sig)))
			continue;
		shared_info[sig - 1] = t->sig_info[sig - 1];
		shared_pending |= SIGBIT(sig);
	}
	t->sig_pending = 0;
}

/* Takes the next deliverable signal of the current thread among allowed:
 * its own before the process's, synchronous ones first, then the lowest
 * number.  0 when none. */
static int signal_dequeue(uint64_t allowed, struct ksiginfo *info)
{
	struct task *t = current;
	uint64_t *sets[2] = {&t->sig_pending, &shared_pending};
	struct ksiginfo *infos[2] = {t->sig_info, shared_info};

	for (int i = 0; i < 2; i++) {
		uint64_t ready = *sets[i] & allowed;
		if (!ready)
			continue;
		if (ready & SYNCHRONOUS)
			ready &= SYNCHRONOUS;
		int sig = __builtin_ctzll(ready) + 1;
		*sets[i] &= ~SIGBIT(sig);
		*info = infos[i][sig - 1];
		if (info->code == SI_TIMER)
			ptimer_collect(info);
		return sig;
	}
	return 0;
}

/* Whether one of sig's pending slots holds timer id's signal; drop
 * discards it. */
static bool timer_slot(uint64_t *set, struct ksiginfo *info, int sig, int id,
		       bool drop)
{
	if (!(*set & SIGBIT(sig)) || info->code != SI_TIMER ||
	    (uint32_t)info->a != (uint32_t)id)
		return false;
	if (drop)
		*set &= ~SIGBIT(sig);
	return true;
}

bool signal_timer_pending(int sig, int id, bool drop)
{
	if (!sig_valid(sig))
		return false;
	bool found =
	    timer_slot(&shared_pending, &shared_info[sig - 1], sig, id, drop);
	for (struct task *t = sched_first(); t; t = t->all_next)
		found |= timer_slot(&t->sig_pending, &t->sig_info[sig - 1], sig,
				    id, drop);
	return found;
}

uint64_t signal_pending_set(const struct task *t)
{
	return t->sig_pending | shared_pending;
}

int signal_take(uint64_t allowed, struct ksiginfo *info)
{
	return signal_dequeue(allowed & ~UNBLOCKABLE, info);
}

static bool in_sig_stack(const struct task *t, uint64_t sp)
{
	return t->ss_size && sp > t->ss_sp && sp - t->ss_sp <= t->ss_size;
}

static bool on_sig_stack(const struct task *t, uint64_t sp)
{
	/* With SS_AUTODISARM the stack is given up on entry, so a thread
	 * is never "on" it (Linux's rule). */
	if (t->ss_flags & SS_AUTODISARM)
		return false;
	return in_sig_stack(t, sp);
}

static int sas_ss_flags(const struct task *t, uint64_t sp)
{
	if (!t->ss_size)
		return SS_DISABLE;
	return on_sig_stack(t, sp) ? SS_ONSTACK : 0;
}

/* An interrupted syscall's result, now that it is known whether a
 * handler runs (act) or not (NULL). */
static void signal_restart(struct trapframe *tf, const struct ksigaction *act)
{
	if (tf->vector != VEC_SYSCALL || tf->error == TF_NO_SYSCALL)
		return;
	switch ((long)tf->rax) {
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		if (act) {
			tf->rax = (uint64_t)-EINTR;
			break;
		}
		goto restart;
	case -ERESTARTSYS:
		if (act && !(act->flags & SA_RESTART)) {
			tf->rax = (uint64_t)-EINTR;
			break;
		}
		goto restart;
	case -ERESTARTNOINTR:
	restart:
		tf->rax = tf->error; /* the syscall number */
		tf->rip -= 2;	     /* the syscall instruction again */
		break;
	default:
		break;
	}
	tf->error = TF_NO_SYSCALL;
}

/* Builds the handler's frame on the user stack and points tf at the
 * handler; 0 or -EFAULT (no room, no restorer: the caller kills). */
static int signal_frame(struct trapframe *tf, int sig,
			const struct ksiginfo *info,
			const struct ksigaction *act, uint64_t saved_mask)
{
	struct task *t = current;
	static uint8_t fx[FPU_STATE_SIZE] __aligned(16);
	struct rt_sigframe f;
	uint64_t sp = tf->rsp - 128; /* the red zone below rsp */
	bool to_altstack = false;

	if (!(act->flags & SA_RESTORER))
		return -EFAULT;
	if ((act->flags & SA_ONSTACK) && sas_ss_flags(t, sp) == 0) {
		sp = t->ss_sp + t->ss_size;
		to_altstack = true;
	}
	uint64_t fpstate = ALIGN_DOWN(sp - FPU_STATE_SIZE, 64);
	uint64_t frame = ALIGN_DOWN(fpstate - sizeof(f), 16) - 8;
	if (to_altstack && !in_sig_stack(t, frame))
		return -EFAULT;
	if (frame >= USER_TOP || frame < PAGE_SIZE)
		return -EFAULT;

	memset(&f, 0, sizeof(f));
	f.pretcode = act->restorer;
	f.uc.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.stack.sp = t->ss_sp;
	f.uc.stack.flags = t->ss_flags;
	f.uc.stack.size = t->ss_size;
	struct sigcontext64 *mc = &f.uc.mc;
	mc->r8 = tf->r8;
	mc->r9 = tf->r9;
	mc->r10 = tf->r10;
	mc->r11 = tf->r11;
	mc->r12 = tf->r12;
	mc->r13 = tf->r13;
	mc->r14 = tf->r14;
	mc->r15 = tf->r15;
	mc->rdi = tf->rdi;
	mc->rsi = tf->rsi;
	mc->rbp = tf->rbp;
	mc->rbx = tf->rbx;
	mc->rdx = tf->rdx;
	mc->rax = tf->rax;
	mc->rcx = tf->rcx;
	mc->rsp = tf->rsp;
	mc->rip = tf->rip;
	mc->eflags = tf->rflags;
	mc->cs = GDT_USER_CS;
	mc->ss = GDT_USER_DS;
	if (SIGBIT(sig) & SYNCHRONOUS) {
		mc->trapno = t->fault_trapno;
		mc->err = t->fault_err;
		mc->cr2 = t->fault_addr;
	}
	mc->oldmask = saved_mask;
	mc->fpstate = fpstate;
	f.uc.sigmask = saved_mask;
	f.info.head = *info;

	arch_fpu_save(fx);
	memset(fx + 464, 0, FPU_STATE_SIZE - 464); /* no XSAVE extension */
	if (copy_to_user((void *)fpstate, fx, sizeof(fx)) ||
	    copy_to_user((void *)frame, &f, sizeof(f)))
		return -EFAULT;
	if (to_altstack && (t->ss_flags & SS_AUTODISARM)) {
		t->ss_sp = 0;
		t->ss_size = 0;
		t->ss_flags = 0;
	}

	tf->rdi = (uint64_t)sig;
	tf->rsi = frame + offsetof(struct rt_sigframe, info);
	tf->rdx = frame + offsetof(struct rt_sigframe, uc);
	tf->rax = 0;
	tf->rsp = frame;
	tf->rip = act->handler;
	tf->rflags &= ~(uint64_t)(RFLAGS_DF | RFLAGS_TF | RFLAGS_RF);
	tf->cs = GDT_USER_CS;
	tf->ss = GDT_USER_DS;
	/* Handlers start with a clean FPU, as on Linux. */
	arch_fpu_reset();
	return 0;
}

void signal_deliver(struct trapframe *tf)
{
	struct task *t = current;
	struct ksiginfo info;
	int sig;

again:
	while ((sig = signal_dequeue(~t->sig_blocked, &info))) {
		struct ksigaction *act = &actions[sig - 1];
		if (act->handler == SIG_IGN)
			continue;
		if (act->handler == SIG_DFL) {
			if (DEFAULT_IGNORED & SIGBIT(sig))
				continue;
			signal_terminate(sig);
		}
		signal_restart(tf, act);
		uint64_t saved =
		    t->sig_restore_mask ? t->sig_saved_mask : t->sig_blocked;
		struct ksigaction a = *act;
		if (signal_frame(tf, sig, &info, &a, saved)) {
			klog("cannot deliver signal %d: no room for its frame "
			     "on the stack at 0x%lx",
			     sig, tf->rsp);
			signal_terminate(KSIGSEGV);
		}
		t->sig_restore_mask = false;
		t->sig_blocked |= a.mask;
		if (!(a.flags & SA_NODEFER))
			t->sig_blocked |= SIGBIT(sig);
		t->sig_blocked &= ~UNBLOCKABLE;
		if (a.flags & SA_RESETHAND)
			act->handler = SIG_DFL;
	}
	signal_restart(tf, NULL);
	if (t->sig_restore_mask) {
		t->sig_restore_mask = false;
		t->sig_blocked = t->sig_saved_mask;
		if (signal_pending(t))
			goto again;
	}
}

void signal_set_temp_mask(uint64_t mask)
{
	struct task *t = current;

	if (!t->sig_restore_mask) {
		t->sig_saved_mask = t->sig_blocked;
		t->sig_restore_mask = true;
	}
	t->sig_blocked = mask & ~UNBLOCKABLE;
}

/* ---- syscalls ---- */

static long sys_rt_sigaction(int sig, const struct ksigaction *act,
			     struct ksigaction *old, size_t setsize)
{
	if (setsize != 8)
		return -EINVAL;
	if (!sig_valid(sig) || ((sig == KSIGKILL || sig == KSIGSTOP) && act))
		return -EINVAL;
	struct ksigaction n;
	if (act && copy_from_user(&n, act, sizeof(n)))
		return -EFAULT;
	if (old && copy_to_user(old, &actions[sig - 1], sizeof(*old)))
		return -EFAULT;
	if (!act)
		return 0;
	n.mask &= ~UNBLOCKABLE;
	actions[sig - 1] = n;
	if (sig == KSIGTERM && n.handler != SIG_DFL)
		stop_enable(); /* the program wants a say in stopping */
	/* POSIX: setting SIG_IGN (or SIG_DFL for a default-ignored signal)
	 * discards it where it is pending. */
	if (sig_ignored(sig)) {
		shared_pending &= ~SIGBIT(sig);
		for (struct task *t = sched_first(); t; t = t->all_next)
			t->sig_pending &= ~SIGBIT(sig);
	}
	return 0;
}
SYSCALL_REGISTER(__NR_rt_sigaction, rt_sigaction, sys_rt_sigaction);

static long sys_rt_sigprocmask(int how, const uint64_t *set, uint64_t *old,
			       size_t setsize)
{
	struct task *t = current;
	uint64_t n = 0;

	if (setsize != 8)
		return -EINVAL;
	if (set && copy_from_user(&n, set, sizeof(n)))
		return -EFAULT;
	if (set && how != 0 && how != 1 && how != 2)
		return -EINVAL; /* SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK */
	if (old && copy_to_user(old, &t->sig_blocked, sizeof(*old)))
		return -EFAULT;
	if (set) {
		n &= ~UNBLOCKABLE;
		if (how == 0)
			t->sig_blocked |= n;
		else if (how == 1)
			t->sig_blocked &= ~n;
		else
			t->sig_blocked = n;
	}
	return 0;
}
SYSCALL_REGISTER(__NR_rt_sigprocmask, rt_sigprocmask, sys_rt_sigprocmask);

static long sys_rt_sigpending(uint64_t *set, size_t setsize)
{
	struct task *t = current;

	if (setsize > 8)
		return -EINVAL;
	uint64_t p = (t->sig_pending | shared_pending) & t->sig_blocked;
	return copy_to_user(set, &p, setsize) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_rt_sigpending, rt_sigpending, sys_rt_sigpending);

static bool sig_wait_never(void *arg)
{
	return false;
}

static long sys_rt_sigsuspend(const uint64_t *umask, size_t setsize)
{
	uint64_t mask;

	if (setsize != 8)
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	signal_set_temp_mask(mask);
	while (wait_until(sig_wait_never, NULL, UINT64_MAX) != -EINTR)
		;
	return -ERESTARTNOHAND;
}
SYSCALL_REGISTER(__NR_rt_sigsuspend, rt_sigsuspend, sys_rt_sigsuspend);

static long sys_pause(void)
{
	while (wait_until(sig_wait_never, NULL, UINT64_MAX) != -EINTR)
		;
	return -ERESTARTNOHAND;
}
SYSCALL_REGISTER(__NR_pause, pause, sys_pause);

struct sig_wait {
	struct task *t;
	uint64_t set;
};

static bool sig_wait_set(void *arg)
{
	struct sig_wait *w = arg;
	return ((w->t->sig_pending | shared_pending) & w->set) != 0;
}

static long sys_rt_sigtimedwait(const uint64_t *uset, void *uinfo,
				const void *uts, size_t setsize)
{
	struct sig_wait w = {current, 0};
	struct siginfo64 info;
	uint64_t deadline = UINT64_MAX;
	int sig;

	if (setsize != 8)
		return -EINVAL;
	if (copy_from_user(&w.set, uset, sizeof(w.set)))
		return -EFAULT;
	w.set &= ~UNBLOCKABLE;
	if (uts) {
		int r = wait_user_timespec(uts, &deadline);
		if (r)
			return r;
	}
	memset(&info, 0, sizeof(info));
	sig = signal_dequeue(w.set, &info.head);
	if (!sig) {
		int r = wait_until(sig_wait_set, &w, deadline);
		sig = signal_dequeue(w.set, &info.head);
		if (!sig)
			return r == -ETIMEDOUT ? -EAGAIN : -EINTR;
	}
	if (uinfo && copy_to_user(uinfo, &info, sizeof(info)))
		return -EFAULT;
	return sig;
}
SYSCALL_REGISTER(__NR_rt_sigtimedwait, rt_sigtimedwait, sys_rt_sigtimedwait);

static long altstack_set(struct task *t, const struct user_stack *ss,
			 uint64_t sp)
{
	int mode = ss->flags & ~(int)SS_AUTODISARM;

	if (on_sig_stack(t, sp) && !(t->ss_flags & SS_AUTODISARM))
		return -EPERM;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (mode == SS_DISABLE) {
		t->ss_sp = 0;
		t->ss_size = 0;
	} else {
		if (ss->size < MINSIGSTKSZ)
			return -ENOMEM;
		t->ss_sp = ss->sp;
		t->ss_size = ss->size;
	}
	t->ss_flags = ss->flags;
	return 0;
}

static long sys_sigaltstack(const struct user_stack *uss,
			    struct user_stack *uoss)
{
	struct task *t = current;
	struct user_stack ss, old;
	uint64_t sp = t->tf->rsp;

	if (uss && copy_from_user(&ss, uss, sizeof(ss)))
		return -EFAULT;
	memset(&old, 0, sizeof(old));
	old.sp = t->ss_sp;
	old.size = t->ss_size;
	old.flags = sas_ss_flags(t, sp) | (t->ss_flags & (int)SS_AUTODISARM);
	if (uss) {
		long r = altstack_set(t, &ss, sp);
		if (r)
			return r;
	}
	if (uoss && copy_to_user(uoss, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_sigaltstack, sigaltstack, sys_sigaltstack);

static long sys_rt_sigreturn(void)
{
	struct task *t = current;
	struct trapframe *tf = t->tf;
	static uint8_t fx[FPU_STATE_SIZE] __aligned(16);
	struct rt_sigframe f;
	uint64_t frame = tf->rsp - 8; /* the handler's ret popped pretcode */

	if (copy_from_user(&f, (void *)frame, sizeof(f)))
		goto bad;
	const struct sigcontext64 *mc = &f.uc.mc;
	if (mc->rip >= USER_TOP)
		goto bad; /* iretq to a non-canonical rip faults in ring 0 */
	if (mc->fpstate) {
		if (copy_from_user(fx, (void *)mc->fpstate, sizeof(fx)))
			goto bad;
		arch_fpu_load(fx);
	} else {
		arch_fpu_reset();
	}
	tf->r8 = mc->r8;
	tf->r9 = mc->r9;
	tf->r10 = mc->r10;
	tf->r11 = mc->r11;
	tf->r12 = mc->r12;
	tf->r13 = mc->r13;
	tf->r14 = mc->r14;
	tf->r15 = mc->r15;
	tf->rdi = mc->rdi;
	tf->rsi = mc->rsi;
	tf->rbp = mc->rbp;
	tf->rbx = mc->rbx;
	tf->rdx = mc->rdx;
	tf->rax = mc->rax;
	tf->rcx = mc->rcx;
	tf->rsp = mc->rsp;
	tf->rip = mc->rip;
	tf->rflags = (tf->rflags & ~FIX_EFLAGS) | (mc->eflags & FIX_EFLAGS);
	tf->cs = GDT_USER_CS;
	tf->ss = GDT_USER_DS;
	tf->error = TF_NO_SYSCALL; /* rax is a register, not a result */
	t->sig_blocked = f.uc.sigmask & ~UNBLOCKABLE;
	/* Like Linux, only a bad address in uc_stack is an error. */
	struct user_stack ss = f.uc.stack;
	if (t->ss_sp != ss.sp || t->ss_size != ss.size ||
	    t->ss_flags != ss.flags)
		altstack_set(t, &ss, tf->rsp);
	return (long)tf->rax;
bad:
	klog("bad signal frame at 0x%lx in rt_sigreturn", frame);
	signal_terminate(KSIGSEGV);
}
SYSCALL_REGISTER(__NR_rt_sigreturn, rt_sigreturn, sys_rt_sigreturn);

static long sys_kill(long pid, long sig)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH; /* one process */
	if (sig == 0)
		return 0;
	struct ksiginfo info = {.code = SI_USER, .a = 1};
	signal_send_process((int)sig, &info);
	return 0;
}
SYSCALL_REGISTER(__NR_kill, kill, sys_kill);

static long thread_signal(long tid, long sig)
{
	if (sig < 0 || sig > NSIG || tid <= 0)
		return -EINVAL;
	struct task *t = sched_find((int)tid);
	if (!t)
		return -ESRCH;
	if (sig == 0)
		return 0;
	struct ksiginfo info = {.code = SI_TKILL, .a = 1};
	signal_send_thread(t, (int)sig, &info);
	return 0;
}

static long sys_tgkill(long tgid, long tid, long sig)
{
	if (tgid <= 0)
		return -EINVAL;
	if (tgid != 1)
		return -ESRCH;
	return thread_signal(tid, sig);
}
SYSCALL_REGISTER(__NR_tgkill, tgkill, sys_tgkill);

static long sys_tkill(long tid, long sig)
{
	return thread_signal(tid, sig);
}
SYSCALL_REGISTER(__NR_tkill, tkill, sys_tkill);

/* sigqueue: the caller's siginfo travels with the signal.  Only to the
 * process itself, so Linux's rule against forging kernel codes for other
 * processes has nothing to protect. */
static long sys_rt_tgsigqueueinfo(long tgid, long tid, long sig,
				  const void *uinfo)
{
	struct ksiginfo info;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (tgid != 1)
		return -ESRCH;
	struct task *t = tid ? sched_find((int)tid) : NULL;
	if (tid && !t)
		return -ESRCH;
	if (sig == 0)
		return 0;
	if (t)
		signal_send_thread(t, (int)sig, &info);
	else
		signal_send_process((int)sig, &info);
	return 0;
}
SYSCALL_REGISTER(__NR_rt_tgsigqueueinfo, rt_tgsigqueueinfo,
		 sys_rt_tgsigqueueinfo);

static long sys_rt_sigqueueinfo(long tgid, long sig, const void *uinfo)
{
	return sys_rt_tgsigqueueinfo(tgid, 0, sig, uinfo);
}
SYSCALL_REGISTER(__NR_rt_sigqueueinfo, rt_sigqueueinfo, sys_rt_sigqueueinfo);

/* ---- interval timers ---- */

#define NSEC 1000000000ULL

struct ktimeval {
	int64_t sec, usec;
};

struct kitimerval {
	struct ktimeval interval, value;
};

/* ITIMER_REAL: next expiry on the monotonic clock (0: disarmed) and the
 * period.  ITIMER_VIRTUAL and ITIMER_PROF are kept and reported but never
 * fire (kiln does not account CPU time per mode). */
static uint64_t itimer_next, itimer_period;
static struct kitimerval itimer_cpu[2];

uint64_t signal_timers_run(uint64_t now)
{
	if (itimer_next && now >= itimer_next) {
		if (itimer_period) {
			itimer_next += itimer_period;
			if (itimer_next <= now)
				itimer_next = now + itimer_period;
		} else {
			itimer_next = 0;
		}
		signal_send_process(KSIGALRM, NULL);
	}
	uint64_t due = ptimer_run(now); /* the POSIX timers (ptimer.c) */
	return MIN(due, itimer_next ? itimer_next : UINT64_MAX);
}

static uint64_t tv_ns(const struct ktimeval *tv)
{
	if ((uint64_t)tv->sec >= UINT64_MAX / NSEC / 2)
		return UINT64_MAX / 2;
	return (uint64_t)tv->sec * NSEC + (uint64_t)tv->usec * 1000;
}

static struct ktimeval ns_tv(uint64_t ns)
{
	struct ktimeval tv = {(int64_t)(ns / NSEC),
			      (int64_t)(ns % NSEC / 1000)};
	return tv;
}

static bool tv_valid(const struct ktimeval *tv)
{
	return tv->sec >= 0 && tv->usec >= 0 && tv->usec < 1000000;
}

static void itimer_get(int which, struct kitimerval *v)
{
	if (which != 0) {
		*v = itimer_cpu[which - 1];
		return;
	}
	uint64_t now = clock_monotonic_ns();
	uint64_t left = itimer_next > now ? itimer_next - now : 0;
	if (itimer_next && !left)
		left = 1000; /* due: report 1 us, never "disarmed" */
	v->value = ns_tv(left);
	v->interval = ns_tv(itimer_period);
}

static long sys_getitimer(long which, struct kitimerval *uv)
{
	struct kitimerval v;

	if (which < 0 || which > 2)
		return -EINVAL;
	itimer_get((int)which, &v);
	return copy_to_user(uv, &v, sizeof(v)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_getitimer, getitimer, sys_getitimer);

static long sys_setitimer(long which, const struct kitimerval *unew,
			  struct kitimerval *uold)
{
	struct kitimerval n, old;

	if (which < 0 || which > 2)
		return -EINVAL;
	memset(&n, 0, sizeof(n));
	if (unew && copy_from_user(&n, unew, sizeof(n)))
		return -EFAULT;
	if (!tv_valid(&n.value) || !tv_valid(&n.interval))
		return -EINVAL;
	itimer_get((int)which, &old);
	if (which != 0) {
		itimer_cpu[which - 1] = n;
	} else {
		uint64_t v = tv_ns(&n.value);
		itimer_period = tv_ns(&n.interval);
		itimer_next = v ? wait_deadline_after(v) : 0;
		sched_timer_changed();
	}
	if (uold && copy_to_user(uold, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_setitimer, setitimer, sys_setitimer);

static long sys_alarm(unsigned long seconds)
{
	struct kitimerval old;

	itimer_get(0, &old);
	itimer_period = 0;
	itimer_next = seconds ? wait_deadline_after(seconds * NSEC) : 0;
	sched_timer_changed();
	/* Seconds left, rounded to nearest, never 0 for an armed alarm. */
	long left = old.value.sec + (old.value.usec >= 500000);
	if (!left && (old.value.usec || old.value.sec))
		left = 1;
	return left;
}
SYSCALL_REGISTER(__NR_alarm, alarm, sys_alarm);
