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

/* arch/x86/cpu.c */
void arch_init(void);
/* Top of the stack the CPU switches to when entering from user mode. */
void arch_set_kernel_stack(uint64_t top);
/* Starts the program: ring 3 at rip with rsp, all other registers zero. */
noreturn void arch_enter_user(uint64_t rip, uint64_t rsp);
void arch_set_fs_base(uint64_t base);
uint64_t arch_get_fs_base(void);

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
void apic_timer_cancel(void);

#endif
