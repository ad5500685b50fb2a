/*
 * Every way into the kernel: the 256 interrupt/exception vectors and the
 * syscall instruction.  All build the same struct trapframe (arch.h) and
 * call C: trap_handler(tf) or syscall_handler(tf).  All leave through
 * trap_return, which restores the frame and irets; a syscall whose frame
 * still looks like a plain return to user mode leaves through sysretq.
 *
 * One CPU runs the program, so the per-CPU kernel stack pointer and the
 * saved user stack pointer are plain globals; the scheduler points
 * cpu_kernel_rsp (and the TSS) at the running thread's kernel stack.
 */
#include "x86.h"

	.text

/* Vectors that push an error code themselves. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.macro PUSH_REGS
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	.endm

	.macro POP_REGS
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	.endm

	.altmacro
	.macro VECTOR n
	.p2align 4
vector_\n:
	.if !HAS_ERR(\n)
	push	$0
	.endif
	push	$\n
	jmp	trap_common
	.endm

	.set i, 0
	.rept 256
	VECTOR %i
	.set i, i + 1
	.endr

	.macro VECTOR_ADDR n
	.quad vector_\n
	.endm

	.section .rodata
	.p2align 3
	.globl trap_vectors
trap_vectors:
	.set i, 0
	.rept 256
	VECTOR_ADDR %i
	.set i, i + 1
	.endr
	.text

trap_common:
	PUSH_REGS
	cld
	mov	%rsp, %rdi
	xor	%ebp, %ebp			/* backtraces start from tf->rbp */
	call	trap_handler
	jmp	trap_return

	.globl trap_return
trap_return:
	POP_REGS
	add	$16, %rsp			/* vector, error */
	iretq

/*
 * syscall: RCX = user RIP, R11 = user RFLAGS, interrupts masked by SFMASK.
 * Switch to the kernel stack and build a frame identical to an interrupt's.
 */
	.globl syscall_entry
syscall_entry:
	mov	%rsp, cpu_user_rsp(%rip)
	mov	cpu_kernel_rsp(%rip), %rsp
	push	$GDT_USER_DS			/* ss */
	push	cpu_user_rsp(%rip)		/* rsp */
	push	%r11				/* rflags */
	push	$GDT_USER_CS			/* cs */
	push	%rcx				/* rip */
	push	%rax				/* error: the syscall number */
	push	$0x100				/* vector: VEC_SYSCALL */
	PUSH_REGS
	cld
	xor	%ebp, %ebp
	mov	%rsp, %rdi
	call	syscall_handler
	/*
	 * Fast return through sysretq when the frame allows it: rcx = rip and
	 * r11 = rflags as sysret will load them, a canonical lower-half rip
	 * (sysret with a non-canonical rip faults in ring 0 on Intel), and
	 * unchanged cs/ss.  Otherwise (signals later, exec) iretq.
	 */
	mov	TF_SIZE - 5*8(%rsp), %rcx	/* rip */
	cmp	%rcx, 12*8(%rsp)		/* tf->rcx == rip? */
	jne	trap_return
	mov	TF_SIZE - 3*8(%rsp), %r11	/* rflags */
	cmp	%r11, 4*8(%rsp)			/* tf->r11 == rflags? */
	jne	trap_return
	movabs	$0x00007ffffffff000, %rax
	cmp	%rax, %rcx
	jae	trap_return
	POP_REGS
	add	$16, %rsp			/* vector, error */
	/* now rip, cs, rflags, rsp, ss */
	mov	24(%rsp), %rsp			/* user rsp (rcx, r11 restored) */
	sysretq

/*
 * arch_switch_stacks(save_ksp, new_ksp): the context switch proper.  Saves
 * the callee-saved registers on the current stack and its pointer in
 * *save_ksp, then loads new_ksp and returns on that stack: into whatever
 * arch_switch call switched that thread out, or into arch_thread_entry
 * for a thread that never ran.
 */
	.globl arch_switch_stacks
arch_switch_stacks:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, (%rdi)
	mov	%rsi, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

/* A new thread's first instructions: rsp points at its trapframe. */
	.globl arch_thread_entry
arch_thread_entry:
	mov	%rsp, %rdi
	call	sched_thread_start
	jmp	trap_return

/* arch_enter_user(rip, rsp): first entry into ring 3. */
	.globl arch_enter_user
arch_enter_user:
	push	$GDT_USER_DS
	push	%rsi
	push	$0x202				/* IF set */
	push	$GDT_USER_CS
	push	%rdi
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
	iretq

	.bss
	.p2align 3
	.globl cpu_user_rsp, cpu_kernel_rsp
cpu_user_rsp:
	.quad 0
cpu_kernel_rsp:
	.quad 0
