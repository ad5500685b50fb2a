/*
 * Trap frames and the arch entry points the rest of the kernel uses.
 */
#ifndef ARCH_H
#define ARCH_H

#include "kernel.h"

/* Saved by entry.S on every interrupt, exception and syscall, lowest
 * address first.  For syscalls, vector is VEC_SYSCALL. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
#define VEC_SYSCALL 0x100

/* For a syscall, error holds the syscall number the program asked for
 * (Linux's orig_rax): restarting an interrupted call needs it after rax
 * was overwritten by the result.  -1 means "not in a syscall" (set by
 * rt_sigreturn so a restored rax is never mistaken for a restart code). */
#define TF_NO_SYSCALL ((uint64_t)-1)

/* The FPU/SSE state of one thread: the FXSAVE image (x87, MXCSR, XMM0-15).
 * CR4.OSXSAVE stays clear (see cpu.c), so no AVX or later state exists and
 * FXSAVE saves all of it; the signal frame carries the same 512 bytes. */
#define FPU_STATE_SIZE 512

/* What a thread's context switch saves: the kernel stack pointer (the
 * callee-saved registers are on that stack), the FS base (TLS) and the
 * FPU state, saved and restored eagerly on every switch. */
struct arch_thread {
	uint64_t ksp;	     /* saved kernel rsp while switched out */
	uint64_t kstack_top; /* where entries from user mode start */
	uint64_t fs_base;    /* always equal to MSR_FS_BASE while running */
	uint8_t fpu[FPU_STATE_SIZE] __aligned(16);
};

/* arch/x86/cpu.c */
void arch_init(void);
/* Top of the stack the CPU switches to when entering from user mode. */
void arch_set_kernel_stack(uint64_t top);
/* Starts the program: ring 3 at rip with rsp, all other registers zero. */
noreturn void arch_enter_user(uint64_t rip, uint64_t rsp);
/* Sets the running thread's FS base (the MSR; the caller records it in
 * its struct arch_thread). */
void arch_set_fs_base(uint64_t base);
uint64_t arch_get_fs_base(void);

/* The boot thread: runs on the boot stack with the FPU state arch_init
 * set up. */
void arch_thread_init_boot(struct arch_thread *t, uint64_t kstack_top);
/* A new thread whose first switch-in returns to user mode through the
 * trapframe at kstack_top - sizeof(struct trapframe) (which the caller
 * fills), after calling sched_thread_start(tf).  Its FPU state is a copy
 * of the running thread's, as clone gives. */
void arch_thread_init(struct arch_thread *t, uint64_t kstack_top);
/* Switches from prev (the running thread) to next: FPU state, FS base,
 * the kernel stack for entries from user mode, then the stacks.  Returns
 * when something switches back to prev. */
void arch_switch(struct arch_thread *prev, struct arch_thread *next);
/* The running thread's FPU registers to/from a 512-byte FXSAVE image
 * (16-byte aligned).  arch_fpu_load sanitizes MXCSR first (a reserved
 * bit would fault) and so takes a writable image. */
void arch_fpu_save(void *img);
void arch_fpu_load(void *img);
/* Loads the state a fresh program or a signal handler starts with. */
void arch_fpu_reset(void);

/* arch/x86/trap.c */
/* Prints registers and a backtrace; used by panic and fault reports. */
void trap_dump(const struct trapframe *tf);
void backtrace_print(uint64_t rbp);
/* Kernel symbol name containing addr, and the offset into it; NULL when
 * unknown. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

/* Interrupt handlers for vectors >= 32. */
typedef void (*irq_handler_t)(struct trapframe *tf);
void irq_register(int vector, irq_handler_t fn);

/* arch/x86/apic.c */
void apic_init(void);
void apic_eoi(void);
/* Arms a one-shot timer interrupt (VEC_TIMER) after ns nanoseconds. */
void apic_timer_oneshot(uint64_t ns);

#endif
