/*
 * Exceptions and interrupts.  A fault in the program that the memory
 * manager cannot resolve ends it the way Linux would kill it with a signal
 * (status 128 + signal) after a one-paragraph report on the console; a
 * fault in the kernel is a panic with registers, the faulting address and
 * a symbolized backtrace.
 */
#include "arch.h"
#include "ksignal.h"
#include "proc.h"
#include "sched.h"
#include "uvm.h"
#include "x86.h"
#include <kiln/abi.h>

struct ksym {
	uint64_t addr;
	const char *name;
};
extern const struct ksym ksyms[];
extern const unsigned long ksyms_count;
extern char text_start[], text_end[];

static irq_handler_t irq_handlers[256];

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating point error",
    "alignment check",
    "machine check",
    "SIMD floating point error",
    "virtualization exception",
    "control protection exception",
};

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	if (ksyms_count == 0 || addr < ksyms[0].addr)
		return NULL;
	unsigned long lo = 0, hi = ksyms_count;
	while (hi - lo > 1) {
		unsigned long mid = (lo + hi) / 2;
		if (ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	*offset = addr - ksyms[lo].addr;
	return ksyms[lo].name;
}

static void print_addr(const char *label, uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);
	if (name && addr >= (uint64_t)text_start && addr < (uint64_t)text_end)
		kprintf("%s%016lx <%s+0x%lx>\n", label, addr, name, off);
	else
		kprintf("%s%016lx\n", label, addr);
}

/* Walks the rbp chain, one line per return address in the kernel. */
static void frames_print(uint64_t rbp)
{
	for (int depth = 0; depth < 32 && rbp; depth++) {
		/* Only follow frames inside the kernel's own memory. */
		if (rbp < KERNEL_BASE_ASM || !IS_ALIGNED(rbp, 8))
			break;
		uint64_t *frame = (uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (ret < (uint64_t)text_start || ret >= (uint64_t)text_end)
			break;
		print_addr("  ", ret);
		rbp = frame[0];
	}
}

void backtrace_print(uint64_t rbp)
{
	kprintf("backtrace:\n");
	frames_print(rbp);
}

/* A backtrace for a trap frame: a leaf function compiled without a frame
 * leaves its return address at the top of the stack, not behind rbp, so
 * that word comes first when it points into the kernel's text. */
static void backtrace_print_trap(const struct trapframe *tf)
{
	uint64_t top = 0;
	if (tf->rsp >= KERNEL_BASE_ASM && IS_ALIGNED(tf->rsp, 8))
		top = *(const uint64_t *)tf->rsp;
	uint64_t first = 0;
	if (tf->rbp >= KERNEL_BASE_ASM && IS_ALIGNED(tf->rbp, 8))
		first = ((const uint64_t *)tf->rbp)[1];
	kprintf("backtrace:\n");
	if (top >= (uint64_t)text_start && top < (uint64_t)text_end &&
	    top != first)
		print_addr("  ", top);
	frames_print(tf->rbp);
}

void trap_dump(const struct trapframe *tf)
{
	print_addr("rip ", tf->rip);
	kprintf("rax %016lx rbx %016lx rcx %016lx rdx %016lx\n"
		"rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n"
		"r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n"
		"r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n"
		"cs %lx ss %lx rflags %016lx cr2 %016lx cr3 %016lx\n",
		tf->rax, tf->rbx, tf->rcx, tf->rdx, tf->rsi, tf->rdi, tf->rbp,
		tf->rsp, tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13,
		tf->r14, tf->r15, tf->cs, tf->ss, tf->rflags, read_cr2(),
		read_cr3());
}

void irq_register(int vector, irq_handler_t fn)
{
	irq_handlers[vector] = fn;
}

/* The signal Linux would send for this exception in user mode. */
static int exception_signal(uint64_t vector)
{
	switch (vector) {
	case 0:
	case 16:
	case 19:
		return 8; /* SIGFPE */
	case 6:
		return 4; /* SIGILL */
	case 3:
	case 1:
		return 5; /* SIGTRAP */
	case 17:
		return 7; /* SIGBUS */
	default:
		return 11; /* SIGSEGV */
	}
}

/* si_code and si_addr of the signal for a user fault, as Linux sets
 * them (SEGV_MAPERR/ACCERR with the address for page faults, the
 * instruction's address for SIGILL/SIGFPE, SI_KERNEL otherwise). */
static int exception_code(const struct trapframe *tf, uint64_t *addr)
{
	*addr = 0;
	switch (tf->vector) {
	case VEC_PF: {
		/* Linux's rule: inside a mapping, the access was not
		 * permitted; outside, nothing is mapped there. */
		*addr = read_cr2();
		const struct vma *v = uvm_next(*addr);
		return v && v->start <= *addr ? 2 : 1; /* ACCERR : MAPERR */
	}
	case 0:
		*addr = tf->rip;
		return 1; /* FPE_INTDIV */
	case 16:
	case 19:
		*addr = tf->rip;
		return 7; /* FPE_FLTINV */
	case 6:
		*addr = tf->rip;
		return 2; /* ILL_ILLOPN */
	case 17:
		return 1; /* BUS_ADRALN */
	case 1:
		*addr = tf->rip;
		return 2; /* TRAP_TRACE */
	default:
		return 0x80; /* SI_KERNEL: #GP, #SS, int3 */
	}
}

/* A fault the program's own handler takes returns; otherwise it ends
 * the program with a report. */
static void user_fault(struct trapframe *tf)
{
	int sig = exception_signal(tf->vector);
	uint64_t si_addr;
	int code = exception_code(tf, &si_addr);

	if (signal_fault(sig, code, si_addr, tf->vector, tf->error)) {
		sched_return_to_user(tf, false);
		return;
	}
	const char *what = tf->vector < 32 && exception_names[tf->vector]
			       ? exception_names[tf->vector]
			       : "exception";
	if (tf->vector == VEC_PF) {
		uint64_t addr = read_cr2();
		klog("%s: segmentation fault at address 0x%lx (%s %s, rip "
		     "0x%lx)",
		     proc_exe_path(), addr,
		     tf->error & 2 ? "write"
				   : (tf->error & 16 ? "exec" : "read"),
		     code == 2 ? "not permitted" : "of unmapped memory",
		     tf->rip);
	} else {
		klog("%s: %s (vector %lu, error 0x%lx) at rip 0x%lx",
		     proc_exe_path(), what, tf->vector, tf->error, tf->rip);
	}
	if (kernel_debug)
		trap_dump(tf);
	klog("program killed by signal %d, exit status %d", sig, 128 + sig);
	proc_exit(128 + sig);
}

void trap_handler(struct trapframe *tf);
void trap_handler(struct trapframe *tf)
{
	bool from_user = (tf->cs & 3) == 3;

	if (tf->vector >= 32) {
		if (irq_handlers[tf->vector])
			irq_handlers[tf->vector](tf);
		if (tf->vector != VEC_SPURIOUS)
			apic_eoi();
		/* Preemption and signals happen on the way to user mode. */
		if (from_user)
			sched_return_to_user(tf, true);
		return;
	}
	if (tf->vector == VEC_PF) {
		uint64_t addr = read_cr2();
		if (from_user && uvm_fault(addr, tf->error) == 0) {
			sched_return_to_user(tf, false);
			return;
		}
		if (from_user) {
			user_fault(tf);
			return;
		}
	} else if (from_user) {
		user_fault(tf);
		return;
	}

	kprintf("\nkiln: kernel panic: %s (vector %lu, error 0x%lx)\n",
		tf->vector < 32 && exception_names[tf->vector]
		    ? exception_names[tf->vector]
		    : "exception",
		tf->vector, tf->error);
	if (tf->vector == VEC_PF)
		kprintf("faulting address %016lx\n", read_cr2());
	trap_dump(tf);
	backtrace_print_trap(tf);
	machine_exit(KILN_EXIT_PANIC);
}
