/*
 * Syscall dispatch.  Handlers register themselves into the .syscalls
 * section (syscall.h); syscall_init turns that into a table indexed by
 * number.  An unknown number answers -ENOSYS and is reported once on the
 * console, naming the syscall, so a program that needs something missing
 * says what it is.  Every call is counted per number for
 * /proc/kiln/syscalls, which shows what a program asks of the kernel
 * (and that the vDSO's clock reads ask nothing).
 */
#include "arch.h"
#include "fs.h"
#include "sched.h"
#include "syscall.h"

#define NR_MAX 512

extern const struct syscall_desc syscalls_start[], syscalls_end[];
static syscall_fn_t table[NR_MAX];
static uint8_t reported[NR_MAX / 8];
static uint64_t counts[NR_MAX];

/* Names of syscalls the kernel does not implement, for the one log line.
 * Generated from <asm/unistd_64.h> by the build (syscall_names.h). */
#include "syscall_names.h"

const char *syscall_name(long nr)
{
	if (nr >= 0 && nr < (long)ARRAY_SIZE(syscall_names) &&
	    syscall_names[nr])
		return syscall_names[nr];
	return "?";
}

void syscall_init(void)
{
	for (const struct syscall_desc *d = syscalls_start; d < syscalls_end;
	     d++) {
		if (d->nr < 0 || d->nr >= NR_MAX)
			panic("syscall '%s' has number %ld out of range",
			      d->name, d->nr);
		if (table[d->nr])
			panic("syscall '%s' (%ld) registered twice", d->name,
			      d->nr);
		table[d->nr] = d->fn;
	}
}

/* /proc/kiln/syscalls: "NAME COUNT" for every number called so far. */
void syscall_gen_counts(struct gen_buf *g)
{
	for (long nr = 0; nr < NR_MAX; nr++)
		if (counts[nr])
			gen_printf(g, "%s %lu\n", syscall_name(nr), counts[nr]);
}

bool syscall_trace;

/* kiln.strace: one line per syscall, after it ran (a call that blocks
 * shows up when it returns). */
static void syscall_trace_print(const struct trapframe *tf, uint64_t nr)
{
	klog("[%d] %s(0x%lx, 0x%lx, 0x%lx, 0x%lx) = %ld", current->tid,
	     syscall_name((long)nr), tf->rdi, tf->rsi, tf->rdx, tf->r10,
	     (long)tf->rax);
}

void syscall_handler(struct trapframe *tf);
void syscall_handler(struct trapframe *tf)
{
	uint64_t nr = tf->rax;
	if (nr < NR_MAX)
		counts[nr]++;
	if (nr < NR_MAX && table[nr]) {
		tf->rax = (uint64_t)table[nr](tf->rdi, tf->rsi, tf->rdx,
					      tf->r10, tf->r8, tf->r9);
		if (unlikely(syscall_trace))
			syscall_trace_print(tf, nr);
		sched_return_to_user(tf, false);
		return;
	}
	if (nr < NR_MAX && !(reported[nr / 8] & (1 << (nr % 8)))) {
		reported[nr / 8] |= 1 << (nr % 8);
		klog("syscall '%s' (%lu) not implemented", syscall_name(nr),
		     nr);
	} else if (nr >= NR_MAX) {
		static bool big_reported;
		if (!big_reported) {
			big_reported = true;
			klog("syscall %lu not implemented", nr);
		}
	}
	tf->rax = (uint64_t)-ENOSYS;
	sched_return_to_user(tf, false);
}
